// Which infrastructure the end-to-end suite runs on, chosen by QTSHOP_STACK (the one place that knows):
//   local       the local stack (npm run stack -- up), the default and what CI uses;
//   containers  PostgreSQL, Kafka, Debezium Connect and MongoDB from official images with testcontainers
//               (needs a Docker engine; none runs on our CI machines, so this path is kept thin);
//   external    infrastructure you run, at the addresses in PG_HOST, PG_PORT, KAFKA_BROKERS, CONNECT_URL, MONGO_URL.
// It returns the environment the shop's services need; the tests do not know which one runs.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';

export interface Infrastructure {
  kind: 'local' | 'containers' | 'external';
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');

function run(args: string[]): Promise<void> {
  return new Promise((ok, fail) =>
    spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: 'inherit' }).on('close', (code) =>
      code === 0 ? ok() : fail(new Error(`${args.join(' ')} exited ${code}`)),
    ),
  );
}

async function local(): Promise<Infrastructure> {
  await run([resolve(root, 'stack/cli.ts'), 'up']);
  return { kind: 'local', env: { QTSHOP_STACK: 'local' }, stop: async () => undefined };
}

function external(): Infrastructure {
  for (const key of ['PG_HOST', 'KAFKA_BROKERS', 'CONNECT_URL', 'MONGO_URL']) {
    if (!process.env[key]) throw new Error(`QTSHOP_STACK=external needs ${key} (see docs/testing.md, Tests)`);
  }
  return { kind: 'external', env: { QTSHOP_STACK: 'external' }, stop: async () => undefined };
}

async function containers(): Promise<Infrastructure> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const pg = await new GenericContainer('postgres:17')
    .withNetwork(network)
    .withNetworkAliases('postgres')
    .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
    .withCommand(['postgres', '-c', 'wal_level=logical', '-c', 'max_replication_slots=20', '-c', 'max_wal_senders=20'])
    .withCopyContentToContainer([
      { content: readFileSync(resolve(root, 'docker/postgres/create-databases.sql'), 'utf8'), target: '/docker-entrypoint-initdb.d/10-create-databases.sql' },
    ])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: 29092, host: 29092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:29092',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092,HOST://localhost:29092',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_NUM_PARTITIONS: '3',
    })
    .start();
  const connect = await new GenericContainer('quay.io/debezium/connect:3.3.2.Final')
    .withNetwork(network)
    .withEnvironment({
      BOOTSTRAP_SERVERS: 'kafka:9092',
      GROUP_ID: 'qtshop-connect',
      CONFIG_STORAGE_TOPIC: 'qtshop-connect-configs',
      OFFSET_STORAGE_TOPIC: 'qtshop-connect-offsets',
      STATUS_STORAGE_TOPIC: 'qtshop-connect-status',
      KEY_CONVERTER: 'org.apache.kafka.connect.storage.StringConverter',
      VALUE_CONVERTER: 'org.apache.kafka.connect.json.JsonConverter',
      CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE: 'false',
      CONNECT_CONFIG_PROVIDERS: 'env',
      CONNECT_CONFIG_PROVIDERS_ENV_CLASS: 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY: 'All',
      PG_HOST: 'postgres',
      PG_PORT: '5432',
      PG_USER: 'postgres',
      PG_PASSWORD: 'postgres',
    })
    .withExposedPorts(8083)
    .withWaitStrategy(Wait.forHttp('/connector-plugins', 8083))
    .start();
  const mongo = await new GenericContainer('mongo:7').withNetwork(network).withExposedPorts(27017).start();
  return {
    kind: 'containers',
    env: {
      QTSHOP_STACK: 'containers',
      PG_HOST: pg.getHost(),
      PG_PORT: String(pg.getMappedPort(5432)),
      KAFKA_BROKERS: 'localhost:29092',
      CONNECT_URL: `http://${connect.getHost()}:${connect.getMappedPort(8083)}`,
      MONGO_URL: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}`,
    },
    async stop() {
      for (const c of [mongo, connect, kafka, pg]) await c.stop();
      await network.stop();
    },
  };
}

export async function provideInfrastructure(kind = process.env.QTSHOP_STACK ?? 'local'): Promise<Infrastructure> {
  switch (kind) {
    case 'local':
      return local();
    case 'external':
      return external();
    case 'containers':
      return containers();
    default:
      throw new Error(`QTSHOP_STACK must be local, containers or external, not "${kind}"`);
  }
}
