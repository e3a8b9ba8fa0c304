// The stack's Kafka brokers (KRaft, every broker also a controller): one alone, or a cluster of
// kafka-1..n with a shared cluster id; the replication their topics get.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createKafka } from '@qtshop/shared/infra';
import type { StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, StackMemberError, type Component } from './common';
import { javaArgs, writeLog4j, writeProps } from './jvm';
import { brokerSasl, prepareKafka, securityProps, scramFormatArgs } from './kafka-security';

/** An admin client of the stack itself: the brokers' own principal (a super user) when they authenticate. */
export function kafkaAdmin(cfg: StackConfig, brokers: string[] = cfg.infra.kafka.brokers) {
  return createKafka({ brokers, requestTimeoutMs: cfg.infra.kafka.requestTimeoutMs }, 'qtshop-stack', undefined, {
    retry: { retries: 0 },
    ...brokerSasl(cfg),
  }).admin();
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Replication of the stack's topics (the shop's, the group offsets, transactions, Connect's internal ones):
 * three copies once there are three brokers, and a write needs all but one in sync, so losing one broker
 * loses nothing and blocks nothing. One broker: one copy, as before.
 */
export function replicationOf(brokers: number): { factor: number; minInsync: number } {
  const factor = Math.min(3, brokers);
  return { factor, minInsync: Math.max(1, factor - 1) };
}

/** The stack runs a cluster (STACK_BROKERS > 1): its members are kafka-1..n, each with a data folder of its own. */
const clustered = (cfg: StackConfig) => cfg.infra.kafka.nodes.length > 1;
const kafkaName = (cfg: StackConfig, id: number) => (clustered(cfg) ? `kafka-${id}` : 'kafka');

/** What a cluster's storage was formatted for: its id and size (a different STACK_BROKERS needs a reset). */
function clusterFile(cfg: StackConfig): string {
  return resolve(cfg.paths.data, 'kafka-cluster.json');
}

function clusterIdFor(cfg: StackConfig): string {
  const file = clusterFile(cfg);
  const brokers = cfg.infra.kafka.nodes.length;
  if (existsSync(file)) {
    const known = JSON.parse(readFileSync(file, 'utf8')) as { clusterId: string; brokers: number };
    if (known.brokers !== brokers)
      throw new StackMemberError(
        `the Kafka cluster in ${cfg.paths.data} was formatted for ${known.brokers} brokers, not STACK_BROKERS=${brokers}: \`npm run stack -- reset\` wipes it, or use another STACK_DIR`,
      );
    return known.clusterId;
  }
  const id = clusterId();
  mkdirSync(cfg.paths.data, { recursive: true });
  writeFileSync(file, JSON.stringify({ clusterId: id, brokers }, null, 2) + '\n');
  return id;
}

export function kafkaMember(cfg: StackConfig, id: number): Component {
  const name = kafkaName(cfg, id);
  const node = cfg.infra.kafka.nodes.find((n) => n.id === id) ?? { id, port: 0, controllerPort: 0 };
  const props = resolve(cfg.paths.conf, `${name}.properties`);
  return {
    name,
    kind: 'kafka',
    ports: () => [node.port, node.controllerPort],
    marker: () => props,
    stopSignal: 'SIGTERM',
    async start(cfg, progress) {
      writeLog4j(cfg);
      const logDir = resolve(cfg.paths.data, name);
      const { port, controllerPort } = node;
      const nodes = cfg.infra.kafka.nodes;
      const { factor, minInsync } = replicationOf(nodes.length);
      const quorum: Record<string, string> = clustered(cfg)
        ? // A static quorum: every broker is also a controller, so two of three keep the metadata log going.
          { 'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',') }
        : { 'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}` };
      writeProps(props, {
        'process.roles': 'broker,controller',
        'node.id': id,
        ...quorum,
        ...securityProps(cfg, port, controllerPort),
        'log.dirs': logDir,
        'num.partitions': cfg.partitions,
        'default.replication.factor': factor,
        'min.insync.replicas': minInsync,
        'auto.create.topics.enable': 'true',
        'offsets.topic.replication.factor': factor,
        'offsets.topic.num.partitions': 10,
        'transaction.state.log.replication.factor': factor,
        'transaction.state.log.min.isr': minInsync,
        'share.coordinator.state.topic.replication.factor': factor,
        'share.coordinator.state.topic.min.isr': minInsync,
        'group.initial.rebalance.delay.ms': 0,
        // In a cluster, a broker that stops heartbeating is fenced after 3 s (Kafka's default: 9 s), and the
        // leaders of its partitions move sooner. When that broker was also the active controller, the other
        // voters notice after 1 s without its answer and elect another within 0.5 s (defaults 2 s and 1 s),
        // whose 3 s of broker heartbeats then start: the fence comes about 4.5 s after the loss, not 6 s.
        ...(clustered(cfg)
          ? {
              'broker.session.timeout.ms': 3000,
              'broker.heartbeat.interval.ms': 1000,
              'controller.quorum.fetch.timeout.ms': 1000,
              'controller.quorum.election.timeout.ms': 500,
            }
          : {}),
        'log.retention.hours': 168,
      });
      if (!existsSync(resolve(logDir, 'meta.properties'))) {
        progress(`${name}: formatting KRaft storage`);
        // One broker formats a standalone (dynamic) quorum; a cluster's members share an id and the static voters.
        // `--cluster-id=<id>`: an id is base64url and may begin with '-', which the tool would take for an option.
        const args = clustered(cfg)
          ? ['format', `--cluster-id=${clusterIdFor(cfg)}`, '-c', props, ...scramFormatArgs(cfg)]
          : ['format', `--cluster-id=${clusterId()}`, '-c', props, '--standalone', ...scramFormatArgs(cfg)];
        execFileSync(cfg.java, javaArgs(cfg, '256m', cfg.paths.kafkaLib, 'kafka.tools.StorageTool', args), { stdio: ['ignore', 'pipe', 'pipe'] });
      }
      return spawnDetached(spec(cfg, name, cfg.java, javaArgs(cfg, cfg.heap.kafka, cfg.paths.kafkaLib, 'kafka.Kafka', [props])));
    },
    async ready(cfg) {
      // This broker answers metadata, knows a controller, and counts itself among the cluster's brokers.
      const admin = kafkaAdmin(cfg, [`127.0.0.1:${node.port}`]);
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        return cluster.controller !== null && cluster.brokers.some((b) => b.nodeId === id);
      } finally {
        await admin.disconnect();
      }
    },
    // The shop's topics, principals and ACLs (idempotent: checked on every `up`, changed only where they differ).
    afterReady: (cfg, progress) => prepareKafka(cfg, node.port, progress),
  };
}
