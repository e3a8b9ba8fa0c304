// What every service does around its own code: HTTP app with /health, /ready (database + Kafka), /metrics,
// its consumer runners, the pruner of what it keeps for a while (retention.ts), its tracer provider, and
// an orderly stop (on a signal the HTTP drain first, then HTTP, then consumers finish in-flight work, then
// the pruner its run, then pools, then the spans still buffered are exported).
import type { Tracer } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import { Registry, type Metric } from 'prom-client';
import type { Knex } from 'knex';
import type { ConsumerTuning } from '../messaging/consumer/settings';
import type { Handlers } from '../messaging/consumer/event';
import { pgInbox } from '../messaging/inbox/pg';
import { createConsumerRunner, type ConsumerRunner } from '../messaging/consumer/runner';
import { createDb } from '../infra/db';
import type { Infra } from '../infra/addresses';
import { createKafka } from '../infra/kafka';
import { closeServer, createHttpApp, listen } from '../http/app';
import type { ContractRouter } from '../http/contract';
import type { ShutdownTiming, Stoppable } from '../platform/lifecycle';
import type { Logger } from '../platform/logging';
import { pgInboxRetention, Pruner, redeliveryWindowMs, type RetentionTarget } from '../messaging/inbox/retention';
import { startTracing, type Tracing, type TracingConfig } from '../observability/tracing';

export interface ServiceOptions {
  name: string;
  log: Logger;
  port: number;
  /** Address to bind (HTTP_HOST); loopback when absent. */
  host?: string;
  /** The drain on a signal and how long requests in flight may take to finish on stop (httpShutdown). */
  shutdown: ShutdownTiming;
  kafka: Kafka;
  routers: ContractRouter[];
  bodyLimit?: string;
  /** Named readiness checks besides Kafka (e.g. the database). */
  readiness: Record<string, () => Promise<unknown>>;
  /** The service's tracing (startTracing), stopped with the service; off when absent. */
  tracing?: Tracing;
  /**
   * The service's consumer runners, given its metrics registry, its tracer and what to do when a runner
   * gives up (pass it as the runner's onGiveUp).
   */
  consumers?: (registry: Registry, tracer: Tracer, onGiveUp: (err: Error) => void) => ConsumerRunner[];
  /**
   * A consumer could not be got consuming again (CONSUMER_MAX_RESTARTS): by default the process exits 1 so
   * that its supervisor starts it afresh; tests running services in-process pass their own.
   */
  onGiveUp?: (err: Error) => void;
  /** What the service prunes (its inbox, ...), every intervalMs (RETENTION_INTERVAL_MS). */
  retention?: { targets: RetentionTarget[]; intervalMs: number };
  /** Metrics of the service's own, created without a registry (registers: []); registered in its registry. */
  metrics?: Metric[];
  /** Closes the service's own resources (pools, clients) after everything else stopped. */
  close: () => Promise<void>;
}

export interface RunningService extends Stoppable {
  port: number;
  registry: Registry;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const registry = new Registry();
  const tracing = opts.tracing ?? startTracing(opts.name);
  const admin = opts.kafka.admin();
  let adminConnected = false;
  const onGiveUp =
    opts.onGiveUp ??
    ((err: Error) => {
      opts.log.fatal({ err }, 'a consumer cannot be got consuming again; exiting so that the process is started afresh');
      process.exit(1);
    });
  let runners: ConsumerRunner[] = [];
  const { app, drain } = createHttpApp({
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
      // Consuming, not merely connected: a crashed or stalled consumer, or a partition waiting behind a
      // message it cannot settle yet, says so here (consumer-runner.ts).
      ...(opts.consumers
        ? {
            consumers: async () => {
              const problems = runners.flatMap((r) => r.problems());
              if (problems.length > 0) throw new Error(problems.join('; '));
            },
          }
        : {}),
    },
  });
  for (const m of opts.metrics ?? []) registry.registerMetric(m);
  runners = opts.consumers?.(registry, tracing.tracer, onGiveUp) ?? [];
  for (const r of runners) await r.start();
  const pruner = opts.retention ? new Pruner({ ...opts.retention, log: opts.log, registry }) : undefined;
  pruner?.start();
  const { server, port } = await listen(app, opts.port, opts.host);
  opts.log.info({ port }, `${opts.name} listening`);
  if (tracing.exporting) opts.log.info({ serviceName: tracing.serviceName }, 'exporting spans over OTLP');
  return {
    port,
    registry,
    shutdown: opts.shutdown,
    drain: () => drain(opts.shutdown.drainDelayMs),
    async stop() {
      await closeServer(server, opts.shutdown.graceMs);
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
  shutdown: ShutdownTiming;
  infra: Infra;
  database: string;
  bodyLimit: string;
  groupId: string;
  topics: string[];
  routers: (db: Knex) => ContractRouter[];
  handlers: Handlers<Knex.Transaction>;
  /** The inbox's retention (INBOX_RETENTION_MS) and the pruner's interval, and the service's own tables to prune besides. */
  retention: { inboxMs: number; intervalMs: number; tables?: (db: Knex) => RetentionTarget[] };
  /** Its own metrics, given its database (ServiceOptions.metrics). */
  metrics?: (db: Knex) => Metric[];
  /** Its tracing settings (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER); off when absent. */
  tracing?: TracingConfig;
  /** Its consumer's batching, concurrency, retries and liveness (consumerSettings). */
  consumer: ConsumerTuning;
  /** See ServiceOptions.onGiveUp. */
  onGiveUp?: (err: Error) => void;
}): Promise<RunningService> {
  // Before the database: knex requires pg when it is created, and the pg instrumentation must see that.
  const tracing = startTracing(opts.name, opts.tracing);
  const db = createDb(opts.infra, opts.database);
  const kafka = createKafka(opts.infra.kafka, opts.name, opts.log);
  return startService({
    name: opts.name,
    log: opts.log,
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    shutdown: opts.shutdown,
    kafka,
    bodyLimit: opts.bodyLimit,
    routers: opts.routers(db),
    readiness: { database: () => db.raw('select 1') },
    tracing,
    ...(opts.onGiveUp ? { onGiveUp: opts.onGiveUp } : {}),
    consumers: (registry, tracer, onGiveUp) => [
      createConsumerRunner({
        onGiveUp,
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
    ...(opts.metrics ? { metrics: opts.metrics(db) } : {}),
    close: () => db.destroy(),
  });
}
