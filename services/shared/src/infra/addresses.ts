// Where the infrastructure is: shared by every service, the stack CLI, tests and benchmarks.
// Defaults point at the local stack (`npm run stack -- up`); docker-compose overrides the hosts.
import { env, loadConfig, type ConfigOf } from '../platform/config';
import { kafkaAuthSettings, kafkaSasl, secretOf, type KafkaSasl } from './credentials';
import { pgAuthSettings, pgPasswordOf, refusePgDevPassword } from './pg-roles';

/**
 * Most parameters of a statement createDb prepares: longer texts come from lists (`in ($1, … $n)`, the
 * inbox's multi-row insert), one text per length, each of which would hold a plan on every connection.
 */
export const PREPARED_MAX_PARAMETERS = 32;

export const infraSettings = {
  PG_HOST: { doc: 'PostgreSQL host', default: '127.0.0.1', schema: env.string() },
  PG_PORT: { doc: 'PostgreSQL port (55432 on the local stack, as machines often run their own PostgreSQL on 5432)', default: '55432', schema: env.port() },
  ...pgAuthSettings,
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
  PG_PREPARED_STATEMENTS: {
    doc: `most distinct statements (SQL texts with parameters) a process's connections keep prepared: each is parsed, and once PostgreSQL settles on a generic plan planned, once per connection instead of at every execution; 0 = none. Statements that read or return \`*\`, or have more than ${PREPARED_MAX_PARAMETERS} parameters, are never prepared, so adding a column while the shop runs fails none; a migration that changes the type of a column a prepared statement returns or compares fails it once per connection, which is then replaced`,
    default: '500',
    schema: env.int(0),
  },
  KAFKA_BROKERS: {
    doc: 'Kafka bootstrap servers, comma separated (default: every broker of the local stack, 127.0.0.1:$KAFKA_PORT and the STACK_BROKERS - 1 after it)',
    default: '',
    schema: env.string().optional(),
  },
  ...kafkaAuthSettings,
  KAFKA_REQUEST_TIMEOUT_MS: {
    doc: "longest wait for a Kafka broker's answer to a request (kafkajs requestTimeout) before the client gives up on it and retries; fetches and group joins wait this plus their own wait time (fetch max wait, rebalance timeout)",
    default: '30000',
    schema: env.int(1),
  },
  KAFKA_RETRY_MAX_MS: {
    doc: "longest wait between a Kafka client's attempts at what its cluster connection retries (finding a group's coordinator, connecting to a broker, metadata; kafkajs's retry maxRetryTime, 30 s by default): waits start at 0.3 s and double up to it, so a client that failed while a broker was lost tries again within this of the cluster having moved on",
    default: '2000',
    schema: env.int(1),
  },
  CONNECT_URL: {
    doc: 'Kafka Connect REST URL; several, comma separated, are tried in turn while one does not answer (default: every worker of the local stack, http://127.0.0.1:$CONNECT_PORT and the STACK_CONNECT_WORKERS - 1 after it)',
    default: '',
    schema: env.string().optional(),
  },
  CONNECT_USERNAME: {
    doc: "User this process sends to Kafka Connect's REST API (HTTP basic auth): the relay defaults to `relay`, the npm run tools to `operator`; the local stack's workers know both",
    default: 'operator',
    schema: env.string(),
  },
  CONNECT_PASSWORD: {
    doc: "Password of CONNECT_USERNAME; unset, the user's development password `<CONNECT_USERNAME>-dev-password`, which NODE_ENV=production refuses",
    default: '',
    schema: env.string().optional(),
  },
  CONNECT_REQUEST_TIMEOUT_MS: {
    doc: "longest wait for a Kafka Connect worker's answer to a REST call (the relay's supervisor, npm run connect, npm start); with several workers in CONNECT_URL the next one is then asked",
    default: '30000',
    schema: env.int(1),
  },
  MONGO_URL: { doc: 'MongoDB connection string (default: mongodb://127.0.0.1:$MONGO_PORT)', default: '', schema: env.string().optional() },
  MONGO_OPERATION_TIMEOUT_MS: {
    doc: "longest wait for MongoDB's answer to an operation of the basket service (and the chaos checker's reads): the driver's socketTimeoutMS, after which the connection is closed and the operation fails; finding a server is bounded apart, at 10 s",
    default: '30000',
    schema: env.int(1),
  },
};

/**
 * The local stack's shape (npm run stack, the tools, npm start's launcher): its ports and members. A service
 * does not read them: npm start passes it the addresses they give (addressEnv), and without them the
 * address defaults are those of a one-member stack.
 */
export const stackTopologySettings = {
  KAFKA_PORT: { doc: 'Kafka broker port of the local stack', default: '9092', schema: env.port() },
  KAFKA_CONTROLLER_PORT: { doc: 'Kafka KRaft controller port of the local stack', default: '9093', schema: env.port() },
  STACK_BROKERS: {
    doc: 'Kafka brokers of the local stack: 1, or a KRaft cluster of that many (each broker and controller; topics then have replication factor min(3, brokers) and min.insync.replicas one less)',
    default: '1',
    schema: env.int(1),
  },
  STACK_CONNECT_WORKERS: { doc: 'Kafka Connect workers of the local stack, in one group (distributed mode)', default: '1', schema: env.int(1) },
  STACK_PORT_STEP: {
    doc: "Ports of the local stack's further members: broker n listens on KAFKA_PORT + (n-1) × step (controller KAFKA_CONTROLLER_PORT + (n-1) × step), Connect worker n on CONNECT_PORT + (n-1) × step",
    default: '10',
    schema: env.int(1),
  },
  CONNECT_PORT: { doc: 'Kafka Connect REST port of the local stack', default: '8083', schema: env.port() },
  STACK_PG_STANDBY: {
    doc: 'A PostgreSQL standby on the local stack (true/false; unset: true when STACK_BROKERS >= 3): two nodes streaming, `postgres` on PG_PORT + step and `postgres-2` on PG_PORT + 2 × step, with HAProxy on PG_PORT sending every connection to the one that accepts writes (docs/operations.md "High availability")',
    default: '',
    schema: env.bool().optional(),
  },
  MONGO_PORT: { doc: 'MongoDB-wire server port of the local stack', default: '27017', schema: env.port() },
};

/** Time bounds every PostgreSQL connection gets (createDb, the relay's lock connection). */
export interface PgTimeouts {
  statementMs: number;
  idleInTransactionMs: number;
  connectMs: number;
  keepaliveIdleS: number;
}

export interface Infra {
  /** nodes: the local stack's PostgreSQL servers behind the address when it runs a standby (STACK_PG_STANDBY), else none. */
  pg: {
    host: string;
    port: number;
    user: string;
    password: string;
    timeouts: PgTimeouts;
    nodes: PgNode[];
    /** PG_PREPARED_STATEMENTS: most distinct statements createDb's connections prepare (absent or 0: none). */
    preparedStatements?: number;
  };
  /**
   * brokers: the bootstrap servers clients use; requestTimeoutMs: their wait for an answer (createKafka);
   * sasl: who the client is (KAFKA_SASL_MECHANISM, KAFKA_USERNAME, KAFKA_PASSWORD), absent without authentication;
   * nodes: the local stack's brokers, one per STACK_BROKERS.
   */
  kafka: {
    brokers: string[];
    requestTimeoutMs: number;
    retryMaxMs?: number;
    sasl?: KafkaSasl | undefined;
    port: number;
    controllerPort: number;
    nodes: KafkaNode[];
  };
  /**
   * url: what clients use (possibly several, comma separated); requestTimeoutMs: their wait for a worker's
   * answer (ConnectClient); workers: the local stack's Connect workers.
   */
  connect: { url: string; requestTimeoutMs: number; auth: ConnectAuth; port: number; workers: ConnectWorker[] };
  /** operationTimeoutMs: MONGO_OPERATION_TIMEOUT_MS, applied by mongoClientOptions. */
  mongo: { url: string; port: number; operationTimeoutMs: number };
}

/** A broker of the local stack (KRaft: broker and controller in one process). */
export interface KafkaNode {
  /** 1-based: the KRaft node.id. */
  id: number;
  port: number;
  controllerPort: number;
}

/** A PostgreSQL server of the local stack behind the stable address (HAProxy on PG_PORT): either may be the primary. */
export interface PgNode {
  /** 1-based: `postgres` is node 1, `postgres-2` node 2. */
  id: number;
  port: number;
}

/** Who a client of Kafka Connect's REST API is (HTTP basic auth). */
export interface ConnectAuth {
  username: string;
  password: string;
}

/** A Kafka Connect worker of the local stack. */
export interface ConnectWorker {
  /** 1-based. */
  id: number;
  port: number;
  url: string;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const STACK_DEFAULTS = loadConfig(stackTopologySettings, {});

/** The infrastructure a configuration names; the local stack's shape, when it does not hold it, is a one-member stack's. */
export function infraFrom(config: ConfigOf<typeof infraSettings> & Partial<ConfigOf<typeof stackTopologySettings>>): Infra {
  const c = { ...STACK_DEFAULTS, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) } as ConfigOf<typeof infraSettings> &
    ConfigOf<typeof stackTopologySettings>;
  const step = c.STACK_PORT_STEP;
  const nodes = Array.from({ length: c.STACK_BROKERS }, (_, i) => ({
    id: i + 1,
    port: c.KAFKA_PORT + i * step,
    controllerPort: c.KAFKA_CONTROLLER_PORT + i * step,
  }));
  const standby = c.STACK_PG_STANDBY ?? c.STACK_BROKERS >= 3;
  const pgNodes = standby ? [1, 2].map((id) => ({ id, port: c.PG_PORT + id * step })) : [];
  const workers = Array.from({ length: c.STACK_CONNECT_WORKERS }, (_, i) => {
    const port = c.CONNECT_PORT + i * step;
    return { id: i + 1, port, url: `http://127.0.0.1:${port}` };
  });
  return {
    pg: {
      host: c.PG_HOST,
      port: c.PG_PORT,
      user: c.PG_USER,
      password: pgPasswordOf(c),
      timeouts: {
        statementMs: c.PG_STATEMENT_TIMEOUT_MS,
        idleInTransactionMs: c.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        connectMs: c.PG_CONNECT_TIMEOUT_MS,
        keepaliveIdleS: c.PG_KEEPALIVE_IDLE_S,
      },
      nodes: pgNodes,
      preparedStatements: c.PG_PREPARED_STATEMENTS,
    },
    kafka: {
      brokers: c.KAFKA_BROKERS ? list(c.KAFKA_BROKERS) : nodes.map((n) => `127.0.0.1:${n.port}`),
      requestTimeoutMs: c.KAFKA_REQUEST_TIMEOUT_MS,
      retryMaxMs: c.KAFKA_RETRY_MAX_MS,
      sasl: kafkaSasl(c),
      port: c.KAFKA_PORT,
      controllerPort: c.KAFKA_CONTROLLER_PORT,
      nodes,
    },
    connect: {
      url: c.CONNECT_URL
        ? list(c.CONNECT_URL)
            .map((u) => u.replace(/\/$/, ''))
            .join(',')
        : workers.map((w) => w.url).join(','),
      requestTimeoutMs: c.CONNECT_REQUEST_TIMEOUT_MS,
      // Read when a process makes a Connect client (the relay, the tools): a service that never calls Connect
      // is not refused in production for a password it does not use.
      get auth() {
        return { username: c.CONNECT_USERNAME, password: secretOf('CONNECT_PASSWORD', c.CONNECT_USERNAME, c.CONNECT_PASSWORD) };
      },
      port: c.CONNECT_PORT,
      workers,
    },
    mongo: { url: c.MONGO_URL ?? `mongodb://127.0.0.1:${c.MONGO_PORT}`, port: c.MONGO_PORT, operationTimeoutMs: c.MONGO_OPERATION_TIMEOUT_MS },
  };
}

/**
 * The time bounds of a MongoDB client (the basket service, the tools): how long to look for a server, and
 * how long an operation waits for its answer. The driver pinned here (6.x, for the stack's mongo-java-server)
 * documents its own operation deadline, timeoutMS, as having no effect (it is experimental there), so the per-operation bound
 * is socketTimeoutMS: a connection that brings no answer for that long is closed and its operation fails.
 */
export const mongoClientOptions = (mongo: Pick<Infra['mongo'], 'operationTimeoutMs'>, serverSelectionTimeoutMS = 10_000) => ({
  serverSelectionTimeoutMS,
  socketTimeoutMS: mongo.operationTimeoutMs,
});

/**
 * The infrastructure of the environment, the local stack's shape included (the tools, tests, benchmarks).
 * NODE_ENV=production refuses PG_USER's development password (the superuser's `postgres` by default).
 */
export function loadInfra(e: NodeJS.ProcessEnv = process.env): Infra {
  const infra = infraFrom(loadConfig({ ...infraSettings, ...stackTopologySettings }, e));
  refusePgDevPassword(infra.pg, e);
  return infra;
}

/** The addresses of `infra` as the settings a service reads them from: what npm start passes to every process it starts. */
export const addressEnv = (infra: Infra): Record<string, string> => ({
  PG_HOST: infra.pg.host,
  PG_PORT: String(infra.pg.port),
  KAFKA_BROKERS: infra.kafka.brokers.join(','),
  CONNECT_URL: infra.connect.url,
  MONGO_URL: infra.mongo.url,
});

/** The shop's PostgreSQL databases, one per service that owns one (docs/architecture.md "Databases"). */
export const DATABASES = ['catalog', 'inventory', 'orders', 'order_query'] as const;
export type DatabaseName = (typeof DATABASES)[number];
