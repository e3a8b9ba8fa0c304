// The stack's Kafka Connect workers (distributed mode, one group): `connect` alone or connect-1..n,
// ready once the outbox connector plugins are listed.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConnectClient } from '@qtshop/shared/delivery';
import { CONNECT_REST_USERS, devPassword } from '@qtshop/shared/infra';
import { CONNECT_GROUP, CONNECT_TOPIC_PREFIX, hasOutboxPlugins } from '@qtshop/shared/tooling';
import type { StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, type Component } from './common';
import { javaArgs, writeLog4j, writeProps } from './jvm';
import { replicationOf } from './kafka';
import { clientSecurityProps } from './kafka-security';

export function connectMember(cfg: StackConfig, id: number): Component {
  const workers = cfg.infra.connect.workers;
  const name = workers.length > 1 ? `connect-${id}` : 'connect';
  const worker = workers.find((w) => w.id === id) ?? { id, port: 0, url: '' };
  const props = resolve(cfg.paths.conf, `${name}.properties`);
  return {
    name,
    kind: 'connect',
    ports: () => [worker.port],
    marker: () => props,
    stopSignal: 'SIGTERM',
    async start(cfg) {
      writeLog4j(cfg);
      const { factor } = replicationOf(cfg.infra.kafka.nodes.length);
      const clustered = cfg.infra.kafka.nodes.length > 1;
      writeProps(props, {
        'bootstrap.servers': cfg.infra.kafka.brokers.join(','),
        // Every worker joins one group: the connectors and their tasks are spread over the workers, and a
        // worker's share moves to the others when it leaves.
        'group.id': CONNECT_GROUP,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'offset.storage.topic': `${CONNECT_TOPIC_PREFIX}offsets`,
        'config.storage.topic': `${CONNECT_TOPIC_PREFIX}configs`,
        'status.storage.topic': `${CONNECT_TOPIC_PREFIX}status`,
        'offset.storage.replication.factor': factor,
        'config.storage.replication.factor': factor,
        'status.storage.replication.factor': factor,
        'offset.flush.interval.ms': 1000,
        // In a cluster, the worker's own clients give up on a dead broker after 5 s (Kafka's defaults: 30 s
        // and 60 s), then ask the others: Debezium reads the offsets topic at every commit, and with the
        // defaults it waited a minute on the dead leader while the relay's repair carried the events.
        ...(clustered ? { 'request.timeout.ms': 5000, 'default.api.timeout.ms': 5000 } : {}),
        // How long the group waits for a worker that left (or died) before its connectors and tasks move.
        'scheduled.rebalance.max.delay.ms': cfg.connectRebalanceDelayMs,
        listeners: `http://127.0.0.1:${worker.port}`,
        // The REST API asks every request for a user of connect-users.properties (HTTP basic auth).
        'rest.extension.classes': 'org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension',
        'rest.advertised.host.name': '127.0.0.1',
        'rest.advertised.port': worker.port,
        'plugin.path': cfg.paths.plugins,
        // The connectors' producers send at once (the latency the relay benchmark measures): set here for every
        // connector, so that no connector config may override its Kafka clients (their principal included).
        'producer.linger.ms': 0,
        'connector.client.config.override.policy': 'None',
        // The worker, and the producers, consumers and admin clients it makes for the connectors, log in as `connect`.
        ...['', 'producer.', 'consumer.', 'admin.'].reduce(
          (props, prefix) => ({ ...props, ...clientSecurityProps(cfg, 'connect', devPassword('connect'), prefix) }),
          {} as Record<string, string>,
        ),
        // Connector files in connect-config/ say ${env:PG_HOST} etc., so one file serves every environment.
        'config.providers': 'env',
        'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      });
      const { host, port } = cfg.infra.pg;
      // Debezium logs in as its own role (DEBEZIUM_PG_USER), never as the superuser of the tools' PG_USER.
      const { PG_USER: _user, PG_PASSWORD: _password, ...inherited } = process.env;
      const jaas = writeRestUsers(cfg);
      const args = javaArgs(cfg, cfg.heap.connect, cfg.paths.kafkaLib, 'org.apache.kafka.connect.cli.ConnectDistributed', [props]);
      return spawnDetached(
        spec(cfg, name, cfg.java, [`-Djava.security.auth.login.config=${jaas}`, ...args], {
          env: {
            ...inherited,
            PG_HOST: host,
            PG_PORT: String(port),
            DEBEZIUM_PG_USER: cfg.debeziumPg.user,
            DEBEZIUM_PG_PASSWORD: cfg.debeziumPg.password,
          },
        }),
      );
    },
    ready: () => hasOutboxPlugins(new ConnectClient(worker.url, Math.min(3000, cfg.infra.connect.requestTimeoutMs), cfg.infra.connect.auth)),
  };
}

/**
 * The users of the workers' REST API (the operator's tools and the relay, with their development
 * passwords) and the JAAS configuration that points the basic-auth extension at them; returns its path.
 */
function writeRestUsers(cfg: StackConfig): string {
  const users = resolve(cfg.paths.conf, 'connect-users.properties');
  writeProps(users, Object.fromEntries(CONNECT_REST_USERS.map((u) => [u, devPassword(u)])));
  const jaas = resolve(cfg.paths.conf, 'connect-jaas.conf');
  writeFileSync(jaas, `KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="${users}";\n};\n`);
  return jaas;
}
