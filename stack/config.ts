// Configuration of the local stack. Its shape (ports, members) comes from the shared infra settings, so
// that the tools and npm start agree with it; everything here is an environment variable with a documented default.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, loadConfig } from '@qtshop/shared/platform';
import { debeziumPgSettings, infraFrom, infraSettings, stackTopologySettings, type Infra } from '@qtshop/shared/infra';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export const stackSettings = {
  ...infraSettings,
  ...stackTopologySettings,
  ...debeziumPgSettings,
  STACK_DIR: {
    doc: 'Where the local stack keeps resolved jars, data, logs and pid files (gitignored)',
    default: resolve(repoRoot, '.stack'),
    schema: env.string(),
  },
  STACK_READY_TIMEOUT_MS: { doc: 'How long `stack up` waits for each component to become ready', default: '180000', schema: env.int(1000) },
  STACK_JAVA: { doc: 'The java binary (Java 17+) that runs Kafka, Connect and the MongoDB-wire server', default: 'java', schema: env.string() },
  STACK_MVN: { doc: 'The Maven binary that resolves the stack jars', default: 'mvn', schema: env.string() },
  STACK_KAFKA_HEAP: { doc: 'JVM heap (-Xmx) of each Kafka broker', default: '1g', schema: env.string() },
  STACK_CONNECT_HEAP: { doc: 'JVM heap (-Xmx) of each Kafka Connect worker', default: '1g', schema: env.string() },
  STACK_MONGO_HEAP: { doc: 'JVM heap (-Xmx) of the MongoDB-wire server', default: '512m', schema: env.string() },
  STACK_KAFKA_PARTITIONS: {
    doc: "Partitions of every topic the shop's services, relays and Debezium create (the brokers' num.partitions): at most this many instances of one service consume at once",
    default: '3',
    schema: env.int(1),
  },
  STACK_CONNECT_REBALANCE_DELAY_MS: {
    doc: "Kafka Connect's scheduled.rebalance.max.delay.ms: how long the workers wait for one that left (or died) to come back before its connectors and tasks move to the others (Kafka's own default is 300000)",
    default: '10000',
    schema: env.int(0),
  },
  STACK_KAFKA_BROKER_PASSWORD: {
    doc: "Password of the brokers' own principal `broker` (SASL/PLAIN between brokers and controllers, and the stack's own admin client): a super user, like `operator`",
    default: 'broker-dev-password',
    schema: env.string(),
  },
  STACK_PG_SYNCHRONOUS: {
    doc: 'With a standby (STACK_PG_STANDBY): a commit returns once the standby has it too (synchronous_standby_names), so a failover loses no acknowledged write; while the standby is down, commits wait. false: asynchronous, and a failover may lose the last acknowledged commits',
    default: 'true',
    schema: env.bool(),
  },
  STACK_PG_FAILOVER_SLOTS: {
    doc: "With a standby: the standby keeps copies of Debezium's replication slots (sync_replication_slots) and the primary sends Debezium no change the standby has not received (synchronized_standby_slots), so Debezium resumes on the promoted node where it was. false: the slots are lost at a failover (the relay's repair covers the gap)",
    default: 'true',
    schema: env.bool(),
  },
  STACK_PG_REPLICATION_PASSWORD: {
    doc: 'Password of the role `replicator`, which a standby streams the WAL and copies the slots with',
    default: 'replicator-dev-password',
    schema: env.string(),
  },
  STACK_HAPROXY: {
    doc: "The haproxy binary (Debian's package haproxy) that holds the primary's address when the stack runs a standby",
    default: 'haproxy',
    schema: env.string(),
  },
  STACK_PG_MAX_SLOT_WAL_KEEP_SIZE: {
    doc: 'PostgreSQL max_slot_wal_keep_size: WAL a replication slot may hold back before PostgreSQL invalidates it (the relay then re-creates the connector and repair covers the gap), instead of filling the disk',
    default: '2GB',
    schema: env.string(),
  },
};

export interface StackConfig {
  infra: Infra;
  dir: string;
  readyTimeoutMs: number;
  java: string;
  mvn: string;
  heap: { kafka: string; connect: string; mongo: string };
  partitions: number;
  connectRebalanceDelayMs: number;
  pgMaxSlotWalKeepSize: string;
  /** The standby's settings (used when infra.pg.nodes is not empty). */
  pgHa: { synchronous: boolean; failoverSlots: boolean; replicationPassword: string; haproxy: string };
  kafkaBrokerPassword: string;
  /** The role Debezium's connectors log in as (Kafka Connect's environment), which the stack gives its password. */
  debeziumPg: { user: string; password: string };
  paths: {
    lib: string;
    kafkaLib: string;
    mongoLib: string;
    plugins: string;
    data: string;
    logs: string;
    run: string;
    conf: string;
    resolvedMarker: string;
  };
}

export function loadStackConfig(e: NodeJS.ProcessEnv = process.env): StackConfig {
  const c = loadConfig(stackSettings, e);
  const dir = resolve(c.STACK_DIR);
  return {
    infra: infraFrom(c),
    dir,
    readyTimeoutMs: c.STACK_READY_TIMEOUT_MS,
    java: c.STACK_JAVA,
    mvn: c.STACK_MVN,
    heap: { kafka: c.STACK_KAFKA_HEAP, connect: c.STACK_CONNECT_HEAP, mongo: c.STACK_MONGO_HEAP },
    partitions: c.STACK_KAFKA_PARTITIONS,
    connectRebalanceDelayMs: c.STACK_CONNECT_REBALANCE_DELAY_MS,
    pgMaxSlotWalKeepSize: c.STACK_PG_MAX_SLOT_WAL_KEEP_SIZE,
    pgHa: {
      synchronous: c.STACK_PG_SYNCHRONOUS,
      failoverSlots: c.STACK_PG_FAILOVER_SLOTS,
      replicationPassword: c.STACK_PG_REPLICATION_PASSWORD,
      haproxy: c.STACK_HAPROXY,
    },
    kafkaBrokerPassword: c.STACK_KAFKA_BROKER_PASSWORD,
    debeziumPg: { user: c.DEBEZIUM_PG_USER, password: c.DEBEZIUM_PG_PASSWORD },
    paths: {
      lib: resolve(dir, 'lib'),
      kafkaLib: resolve(dir, 'lib/kafka'),
      mongoLib: resolve(dir, 'lib/mongo'),
      plugins: resolve(dir, 'plugins'),
      data: resolve(dir, 'data'),
      logs: resolve(dir, 'logs'),
      run: resolve(dir, 'run'),
      conf: resolve(dir, 'conf'),
      resolvedMarker: resolve(dir, 'lib/resolved.json'),
    },
  };
}
