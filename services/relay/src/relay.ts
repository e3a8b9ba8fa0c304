// The relay assembled: an HTTP app (/health, /ready, /metrics) and, per outbox database, a polling relay
// (RELAY_MODE=polling) or a janitor (RELAY_MODE=debezium). main.ts runs it; tests start it in-process.
import type { Server } from 'node:http';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { closeServer, createDb, createHttpApp, createKafka, createLogger, infraFrom, listen, type Knex, type Logger } from '@qtshop/shared';
import type { RelayConfig } from './config';
import { Janitor } from './janitor';
import { RelayMetrics } from './metrics';
import { PollingRelay } from './polling';

export interface RelayDeps {
  log?: Logger;
  registry?: Registry;
}

export interface Relay {
  readonly pollers: PollingRelay[];
  readonly janitors: Janitor[];
  readonly registry: Registry;
  /** The HTTP port actually bound (RELAY_PORT=0 picks a free one); 0 before start(). */
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
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

export function createRelay(config: RelayConfig, deps: RelayDeps = {}): Relay {
  const log = deps.log ?? createLogger('relay', config.LOG_LEVEL);
  const infra = infraFrom(config);
  const kafka = createKafka(infra.kafka.brokers, 'qtshop-relay', log);
  const databases = [...new Set(config.OUTBOX_DATABASES)];
  // One small pool per database for /ready and the janitor; the pollers use their own dedicated connection.
  const dbs = new Map<string, Knex>(databases.map((d) => [d, createDb(infra, d, { max: 1 })]));

  const { app, registry } = createHttpApp({
    name: 'relay',
    log,
    routers: [],
    readiness: {
      ...Object.fromEntries([...dbs].map(([d, knex]) => [`db:${d}`, () => knex.raw('select 1')])),
      kafka: () => kafkaReachable(kafka),
    },
    ...(deps.registry ? { registry: deps.registry } : {}),
  });
  const metrics = new RelayMetrics(registry);

  const pollers =
    config.RELAY_MODE === 'polling'
      ? databases.map((database) => new PollingRelay({ database, pg: infra.pg, kafka, intervalMs: config.OUTBOX_POLL_INTERVAL_MS, batchSize: config.OUTBOX_BATCH_SIZE, log, metrics }))
      : [];
  const janitors =
    config.RELAY_MODE === 'debezium'
      ? [...dbs].map(([database, db]) => new Janitor({ database, db, retentionMs: config.OUTBOX_RETENTION_MS, intervalMs: config.OUTBOX_JANITOR_INTERVAL_MS, log, metrics }))
      : [];

  let server: Server | undefined;
  let port = 0;
  return {
    pollers,
    janitors,
    registry,
    get port() {
      return port;
    },
    async start() {
      ({ server, port } = await listen(app, config.RELAY_PORT));
      for (const w of [...pollers, ...janitors]) w.start();
      log.info({ port, mode: config.RELAY_MODE, databases }, 'relay started');
    },
    async stop() {
      if (server) await closeServer(server);
      await Promise.all([...pollers, ...janitors].map((w) => w.stop()));
      await Promise.all([...dbs.values()].map((knex) => knex.destroy()));
    },
  };
}
