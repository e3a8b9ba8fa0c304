// What every service does around its own code: HTTP app with /health, /ready (database + Kafka), /metrics,
// its consumer runners, the pruner of what it keeps for a while (retention.ts), its tracer provider, and
// an orderly stop (HTTP first, then consumers finish in-flight work, then the pruner its run, then pools,
// then the spans still buffered are exported).
import type { Tracer } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Knex } from 'knex';
import { createConsumerRunner, pgInbox, type ConsumerRunner, type Handlers } from './consumer';
import { createDb } from './db';
import type { Infra } from './infra';
import { createKafka } from './kafka';
import { closeServer, createHttpApp, listen } from './http';
import type { ContractRouter } from './http-contract';
import { configureOutbox } from './outbox';
import type { Logger } from './logging';
import { pgInboxRetention, Pruner, redeliveryWindowMs, type RetentionTarget } from './retention';
import { startTracing, type Tracing, type TracingConfig } from './tracing';

export interface ServiceOptions {
  name: string;
  log: Logger;
  port: number;
  /** Address to bind (HTTP_HOST); loopback when absent. */
  host?: string;
  /** How long requests in flight may take to finish on stop (HTTP_SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
  kafka: Kafka;
  routers: ContractRouter[];
  bodyLimit?: string;
  /** Named readiness checks besides Kafka (e.g. the database). */
  readiness: Record<string, () => Promise<unknown>>;
  /** The service's tracing (startTracing), stopped with the service; off when absent. */
  tracing?: Tracing;
  /** The service's consumer runners, given its metrics registry and its tracer. */
  consumers?: (registry: Registry, tracer: Tracer) => ConsumerRunner[];
  /** What the service prunes (its inbox, ...), every intervalMs (RETENTION_INTERVAL_MS). */
  retention?: { targets: RetentionTarget[]; intervalMs: number };
  /** Closes the service's own resources (pools, clients) after everything else stopped. */
  close: () => Promise<void>;
}

export interface RunningService {
  port: number;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const registry = new Registry();
  const tracing = opts.tracing ?? startTracing(opts.name);
  const admin = opts.kafka.admin();
  let adminConnected = false;
  const { app } = createHttpApp({
    name: opts.name,
    log: opts.log,
    registry,
    tracer: tracing.tracer,
    routers: opts.routers,
    ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
    readiness: {
      ...opts.readiness,
      kafka: async () => {
        if (!adminConnected) {
          await admin.connect();
          adminConnected = true;
        }
        await admin.describeCluster();
      },
    },
  });
  const runners = opts.consumers?.(registry, tracing.tracer) ?? [];
  for (const r of runners) await r.start();
  const pruner = opts.retention ? new Pruner({ ...opts.retention, log: opts.log, registry }) : undefined;
  pruner?.start();
  const { server, port } = await listen(app, opts.port, opts.host);
  opts.log.info({ port }, `${opts.name} listening`);
  if (tracing.exporting) opts.log.info({ serviceName: tracing.serviceName }, 'exporting spans over OTLP');
  return {
    port,
    registry,
    async stop() {
      await closeServer(server, opts.shutdownGraceMs);
      for (const r of runners) await r.stop();
      await pruner?.stop();
      if (adminConnected) await admin.disconnect();
      await opts.close();
      await tracing.shutdown();
    },
  };
}

/** A service that owns one PostgreSQL database, serves `routers` and consumes `topics` through the PostgreSQL inbox. */
export async function startPgService(opts: {
  name: string;
  log: Logger;
  port: number;
  host?: string;
  shutdownGraceMs?: number;
  infra: Infra;
  database: string;
  bodyLimit: string;
  groupId: string;
  topics: string[];
  routers: (db: Knex) => ContractRouter[];
  handlers: Handlers<Knex.Transaction>;
  /** Limits of the outbox writer, for a service that writes an outbox (OUTBOX_MAX_EVENT_BYTES). */
  outbox?: { maxEventBytes: number };
  /** The inbox's retention (INBOX_RETENTION_MS) and the pruner's interval, and the service's own tables to prune besides. */
  retention: { inboxMs: number; intervalMs: number; tables?: (db: Knex) => RetentionTarget[] };
  /** Its tracing settings (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER); off when absent. */
  tracing?: TracingConfig;
  /** Its consumer's batching and concurrency (consumerSettings). */
  consumer: { maxBatch: number; partitionsConsumedConcurrently: number };
}): Promise<RunningService> {
  if (opts.outbox) configureOutbox(opts.outbox);
  // Before the database: knex requires pg when it is created, and the pg instrumentation must see that.
  const tracing = startTracing(opts.name, opts.tracing);
  const db = createDb(opts.infra, opts.database);
  const kafka = createKafka(opts.infra.kafka, opts.name, opts.log);
  return startService({
    name: opts.name,
    log: opts.log,
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.shutdownGraceMs !== undefined ? { shutdownGraceMs: opts.shutdownGraceMs } : {}),
    kafka,
    bodyLimit: opts.bodyLimit,
    routers: opts.routers(db),
    readiness: { database: () => db.raw('select 1') },
    tracing,
    consumers: (registry, tracer) => [
      createConsumerRunner({
        kafka,
        groupId: opts.groupId,
        topics: opts.topics,
        handlers: opts.handlers,
        inbox: pgInbox(db),
        log: opts.log,
        registry,
        tracer,
        ...opts.consumer,
      }),
    ],
    retention: {
      targets: [pgInboxRetention(db, opts.retention.inboxMs, () => redeliveryWindowMs(kafka, opts.topics)), ...(opts.retention.tables?.(db) ?? [])],
      intervalMs: opts.retention.intervalMs,
    },
    close: () => db.destroy(),
  });
}
