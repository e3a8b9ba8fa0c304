// Where the infrastructure is: shared by every service, the stack CLI, tests and benchmarks.
// Defaults point at the local stack (`npm run stack -- up`); docker-compose overrides the hosts.
import { env, loadConfig, type ConfigOf } from './config';

export const infraSettings = {
  PG_HOST: { doc: 'PostgreSQL host', default: '127.0.0.1', schema: env.string() },
  PG_PORT: { doc: 'PostgreSQL port (the machine runs its own PostgreSQL on 5432, so the stack uses 55432)', default: '55432', schema: env.port() },
  PG_USER: { doc: 'PostgreSQL user (superuser of the stack cluster; also used by Debezium)', default: 'postgres', schema: env.string() },
  PG_PASSWORD: { doc: 'PostgreSQL password', default: 'postgres', schema: env.string() },
  PG_STATEMENT_TIMEOUT_MS: {
    doc: 'statement_timeout of every connection: a statement running longer is cancelled (0 = none)',
    default: '30000',
    schema: env.int(0),
  },
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: {
    doc: 'idle_in_transaction_session_timeout of every connection: PostgreSQL ends a session left idle inside a transaction this long, releasing its locks (0 = none)',
    default: '60000',
    schema: env.int(0),
  },
  PG_CONNECT_TIMEOUT_MS: { doc: 'longest wait for a new PostgreSQL connection', default: '10000', schema: env.int(1) },
  PG_KEEPALIVE_IDLE_S: {
    doc: 'TCP keepalive on every connection, both ends: first probe after this many idle seconds, then every 5 s, 3 probes; a vanished peer is noticed in about idle + 15 s',
    default: '10',
    schema: env.int(1),
  },
  KAFKA_PORT: { doc: 'Kafka broker port of the local stack', default: '9092', schema: env.port() },
  KAFKA_CONTROLLER_PORT: { doc: 'Kafka KRaft controller port of the local stack', default: '9093', schema: env.port() },
  KAFKA_BROKERS: { doc: 'Kafka bootstrap servers, comma separated (default: 127.0.0.1:$KAFKA_PORT)', default: '', schema: env.string().optional() },
  CONNECT_PORT: { doc: 'Kafka Connect REST port of the local stack', default: '8083', schema: env.port() },
  CONNECT_URL: { doc: 'Kafka Connect REST URL (default: http://127.0.0.1:$CONNECT_PORT)', default: '', schema: env.string().optional() },
  MONGO_PORT: { doc: 'MongoDB-wire server port of the local stack', default: '27017', schema: env.port() },
  MONGO_URL: { doc: 'MongoDB connection string (default: mongodb://127.0.0.1:$MONGO_PORT)', default: '', schema: env.string().optional() },
};

/** Time bounds every PostgreSQL connection gets (createDb, the relay's lock connection). */
export interface PgTimeouts {
  statementMs: number;
  idleInTransactionMs: number;
  connectMs: number;
  keepaliveIdleS: number;
}

export interface Infra {
  pg: { host: string; port: number; user: string; password: string; timeouts: PgTimeouts };
  kafka: { brokers: string[]; port: number; controllerPort: number };
  connect: { url: string; port: number };
  mongo: { url: string; port: number };
}

export function infraFrom(c: ConfigOf<typeof infraSettings>): Infra {
  return {
    pg: {
      host: c.PG_HOST,
      port: c.PG_PORT,
      user: c.PG_USER,
      password: c.PG_PASSWORD,
      timeouts: {
        statementMs: c.PG_STATEMENT_TIMEOUT_MS,
        idleInTransactionMs: c.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        connectMs: c.PG_CONNECT_TIMEOUT_MS,
        keepaliveIdleS: c.PG_KEEPALIVE_IDLE_S,
      },
    },
    kafka: {
      brokers: (c.KAFKA_BROKERS ?? `127.0.0.1:${c.KAFKA_PORT}`)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      port: c.KAFKA_PORT,
      controllerPort: c.KAFKA_CONTROLLER_PORT,
    },
    connect: { url: (c.CONNECT_URL ?? `http://127.0.0.1:${c.CONNECT_PORT}`).replace(/\/$/, ''), port: c.CONNECT_PORT },
    mongo: { url: c.MONGO_URL ?? `mongodb://127.0.0.1:${c.MONGO_PORT}`, port: c.MONGO_PORT },
  };
}

export function loadInfra(e: NodeJS.ProcessEnv = process.env): Infra {
  return infraFrom(loadConfig(infraSettings, e));
}

/** The PostgreSQL databases of DESIGN.md, one per service that owns one. */
export const DATABASES = ['catalog', 'inventory', 'orders', 'order_query'] as const;
export type DatabaseName = (typeof DATABASES)[number];
