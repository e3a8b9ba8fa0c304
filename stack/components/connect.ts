// The stack's Kafka Connect workers (distributed mode, one group): `connect` alone or connect-1..n,
// ready once the outbox connector plugins are listed.
import { resolve } from 'node:path';
import { ConnectClient } from '@qtshop/shared/delivery';
import { hasOutboxPlugins } from '@qtshop/shared/tooling';
import type { StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, type Component } from './common';
import { javaArgs, writeLog4j, writeProps } from './jvm';
import { replicationOf } from './kafka';

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
      writeProps(props, {
        'bootstrap.servers': cfg.infra.kafka.brokers.join(','),
        // Every worker joins one group: the connectors and their tasks are spread over the workers, and a
        // worker's share moves to the others when it leaves.
        'group.id': 'qtshop-connect',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'offset.storage.topic': 'qtshop-connect-offsets',
        'config.storage.topic': 'qtshop-connect-configs',
        'status.storage.topic': 'qtshop-connect-status',
        'offset.storage.replication.factor': factor,
        'config.storage.replication.factor': factor,
        'status.storage.replication.factor': factor,
        'offset.flush.interval.ms': 1000,
        // How long the group waits for a worker that left (or died) before its connectors and tasks move.
        'scheduled.rebalance.max.delay.ms': cfg.connectRebalanceDelayMs,
        listeners: `http://127.0.0.1:${worker.port}`,
        'rest.advertised.host.name': '127.0.0.1',
        'rest.advertised.port': worker.port,
        'plugin.path': cfg.paths.plugins,
        // Lets a connector config override producer settings (the latency tuning of the relay benchmark).
        'connector.client.config.override.policy': 'All',
        // Connector files in connect-config/ say ${env:PG_HOST} etc., so one file serves every environment.
        'config.providers': 'env',
        'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      });
      const { host, port, user, password } = cfg.infra.pg;
      return spawnDetached(
        spec(cfg, name, cfg.java, javaArgs(cfg, cfg.heap.connect, cfg.paths.kafkaLib, 'org.apache.kafka.connect.cli.ConnectDistributed', [props]), {
          env: { ...process.env, PG_HOST: host, PG_PORT: String(port), PG_USER: user, PG_PASSWORD: password },
        }),
      );
    },
    ready: () => hasOutboxPlugins(new ConnectClient(worker.url, Math.min(3000, cfg.infra.connect.requestTimeoutMs))),
  };
}
