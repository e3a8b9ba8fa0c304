// The relay assembled, served like every service (serve): /health, /ready, /metrics and, per outbox database:
// - polling mode: a polling relay that publishes every unsent row;
// - debezium mode: the same worker as repairer (only rows unconfirmed past OUTBOX_REPAIR_AFTER_MS), one
//   confirmer for all databases (reads the outbox topics, marks rows delivered), and a connector supervisor;
// - both modes: a janitor deleting delivered rows past the retention, the outbox health behind /ready, and a
//   watcher exporting consumer lag and dead-letter depth.
// main.ts runs it; tests start it in-process.
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { createLogger, type Logger, type Stoppable } from '@qtshop/shared/platform';
import { createDb, createKafka, infraFrom, pgConnection, type Knex } from '@qtshop/shared/infra';
import { TOPICS } from '@qtshop/shared/events';
import { Degraded, httpShutdown } from '@qtshop/shared/http';
import { serve, type RunningService } from '@qtshop/shared/service';
import { ConnectClient, connectorsByDatabase, enableSlotFailover, type ConnectorConfig } from '@qtshop/shared/delivery';
import { dlqTopicsOf, lagGroupsOf, type RelayConfig } from './config';
import { Confirmer } from './confirmer';
import { Janitor } from './janitor';
import { KafkaWatcher } from './kafka-watcher';
import { RelayMetrics } from './metrics';
import { relayTransactionalId } from './fenced-producer';
import { PollingRelay } from './polling';
import { ConnectorSupervisor } from './supervisor';

export interface RelayDeps {
  log?: Logger;
  registry?: Registry;
  /** Connector files by database (default: connect-config/*.json by their database.dbname). */
  connectors?: Map<string, ConnectorConfig>;
}

export interface Relay extends Stoppable {
  /** The publishing workers: the polling relays, or debezium mode's repairers. */
  readonly pollers: PollingRelay[];
  readonly janitors: Janitor[];
  readonly supervisors: ConnectorSupervisor[];
  readonly confirmer: Confirmer | undefined;
  readonly kafkaWatcher: KafkaWatcher;
  readonly registry: Registry;
  /** The HTTP port actually bound (RELAY_PORT=0 picks a free one); 0 before start(). */
  readonly port: number;
  start(): Promise<void>;
}

async function kafkaReachable(kafka: Kafka): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    await admin.describeCluster();
  } finally {
    await admin.disconnect();
  }
}

/** /ready of one outbox database: throws naming every problem of its publishing worker and its supervisor. */
async function outboxReady(poller: PollingRelay, supervisor: ConnectorSupervisor): Promise<Degraded | undefined> {
  const problems = poller.problems();
  const degraded = await supervisor.ready().catch((err: unknown) => void problems.push((err as Error).message));
  if (problems.length > 0) throw new Error(problems.join('; '));
  return degraded;
}

/** How the relay's pools (confirmer, supervisor, janitor, /ready) appear in pg_stat_activity. */
export const RELAY_POOL_APPLICATION_NAME = 'qtshop-relay-pool';

export function createRelay(config: RelayConfig, deps: RelayDeps = {}): Relay {
  const log = deps.log ?? createLogger('relay', config.LOG_LEVEL);
  const infra = infraFrom(config);
  const kafka = createKafka(infra.kafka, 'qtshop-relay', log);
  const connect = ConnectClient.of(infra.connect);
  const debezium = config.RELAY_MODE === 'debezium';
  const databases = [...new Set(config.OUTBOX_DATABASES)];
  // A small pool per database for /ready, the confirmer, the supervisor and the janitor; the publishing
  // workers use their own dedicated connection (it holds the lock).
  const dbs = new Map<string, Knex>(databases.map((d) => [d, createDb(infra, d, { max: 3 }, RELAY_POOL_APPLICATION_NAME)]));

  const registry = deps.registry ?? new Registry();
  const metrics = new RelayMetrics(registry);

  const confirmer = debezium
    ? new Confirmer({
        kafka,
        groupId: config.RELAY_CONFIRM_GROUP,
        topics: config.RELAY_CONFIRM_TOPICS ?? TOPICS,
        dbs,
        fetch: { minBytes: config.RELAY_CONFIRM_MIN_BYTES, maxWaitTimeInMs: config.RELAY_CONFIRM_MAX_WAIT_MS },
        log,
        metrics,
      })
    : undefined;
  const pollers = databases.map(
    (database) =>
      new PollingRelay({
        database,
        pg: infra.pg,
        kafka,
        intervalMs: config.OUTBOX_POLL_INTERVAL_MS,
        takeoverAfterMs: Math.max(config.OUTBOX_TAKEOVER_AFTER_MS, 3 * config.OUTBOX_POLL_INTERVAL_MS),
        transactionalId: relayTransactionalId(config.OUTBOX_TRANSACTIONAL_ID_PREFIX, database),
        batchSize: config.OUTBOX_BATCH_SIZE,
        maxBatchBytes: config.OUTBOX_BATCH_MAX_BYTES,
        retryBackoffMaxMs: config.OUTBOX_RETRY_BACKOFF_MAX_MS,
        repairAfterMs: debezium ? config.OUTBOX_REPAIR_AFTER_MS : 0,
        ...(confirmer ? { ready: () => confirmer.caughtUp() } : {}),
        log,
        metrics,
      }),
  );
  const connectors = debezium ? (deps.connectors ?? connectorsByDatabase()) : new Map<string, ConnectorConfig>();
  const supervisors = databases.map(
    (database, i) =>
      new ConnectorSupervisor({
        database,
        db: dbs.get(database)!,
        connector: connectors.get(database),
        connect,
        intervalMs: config.RELAY_SUPERVISE_INTERVAL_MS,
        readyMaxAgeMs: config.OUTBOX_READY_MAX_AGE_MS,
        restartBackoffMs: config.CONNECT_RESTART_BACKOFF_MS,
        restartBackoffMaxMs: config.CONNECT_RESTART_BACKOFF_MAX_MS,
        restoreDrift: config.CONNECT_RESTORE_DRIFT,
        enableSlotFailover: (slot) => enableSlotFailover(pgConnection(infra.pg, database, RELAY_POOL_APPLICATION_NAME), slot),
        isActive: () => pollers[i]!.active,
        log,
        metrics,
      }),
  );
  const janitors = [...dbs].map(
    ([database, db]) => new Janitor({ database, db, retentionMs: config.OUTBOX_RETENTION_MS, intervalMs: config.OUTBOX_JANITOR_INTERVAL_MS, log, metrics }),
  );

  const kafkaWatcher = new KafkaWatcher({
    kafka,
    groups: lagGroupsOf(config),
    dlqTopics: dlqTopicsOf(config),
    intervalMs: config.RELAY_SUPERVISE_INTERVAL_MS,
    log,
    metrics,
  });

  let running: RunningService | undefined;
  const shutdown = httpShutdown(config);
  return {
    pollers,
    janitors,
    supervisors,
    confirmer,
    kafkaWatcher,
    registry,
    get port() {
      return running?.port ?? 0;
    },
    shutdown,
    drain: async () => running?.drain(),
    async start() {
      running = await serve({
        name: 'relay',
        log,
        port: config.RELAY_PORT,
        host: config.HTTP_HOST,
        shutdown,
        kafka,
        registry,
        routers: [],
        health: { mode: config.RELAY_MODE },
        readiness: {
          // The publishing worker's problems (Kafka refusing its records) and the supervisor's (connector, slot, age).
          ...Object.fromEntries(databases.map((d, i) => [`outbox:${d}`, () => outboxReady(pollers[i]!, supervisors[i]!)])),
        },
        kafkaReady: () => kafkaReachable(kafka),
        workers: [...(confirmer ? [confirmer] : []), ...pollers, ...janitors, ...supervisors, kafkaWatcher],
        close: () => Promise.all([...dbs.values()].map((knex) => knex.destroy())).then(() => undefined),
      });
      log.info(
        { port: running.port, mode: config.RELAY_MODE, databases, ...(debezium ? { repairAfterMs: config.OUTBOX_REPAIR_AFTER_MS } : {}) },
        'relay started',
      );
    },
    async stop() {
      await running?.stop();
    },
  };
}
