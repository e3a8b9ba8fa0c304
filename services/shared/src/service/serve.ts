// What every process serving HTTP does around its own code (the services through startService, and the
// relay): the HTTP app with /health, /ready (its checks + Kafka + consumers), /metrics, its consumer runners
// and background workers, the pruner of what it keeps for a while (messaging/inbox/retention.ts), its tracer
// provider, and an orderly stop (on a signal the HTTP drain first, then HTTP, then consumers finish
// in-flight work, then the workers, then the pruner its run, then pools, then the spans still buffered are
// exported).
import type { Tracer } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import { Registry, type Metric } from 'prom-client';
import { createConsumerRunner, type ConsumerRunner } from '../messaging/consumer/runner';
import { isTransient } from '../infra/transient';
import { closeServer, createHttpApp, listen } from '../http/app';
import type { ContractRouter } from '../http/contract';
import type { ShutdownTiming, Stoppable } from '../platform/lifecycle';
import type { Logger } from '../platform/logging';
import { Pruner, type RetentionTarget } from '../messaging/inbox/retention';
import { startTracing, type Tracing } from '../observability/tracing';

/** A background worker of the process (the relay's pollers, janitors, supervisors): started after the consumers, stopped after them. */
export interface Worker {
  start(): unknown;
  stop(): Promise<void>;
  /** Metrics of the worker's own (created with registers: []), registered with the process's registry. */
  readonly metrics?: Metric[];
}

export interface ServeOptions {
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
  /** Checks Kafka for /ready: by default a describeCluster on an admin client kept connected. */
  kafkaReady?: () => Promise<unknown>;
  /** Facts about the running process added to the /health body (the relay's mode). */
  health?: Record<string, string>;
  /** The registry to expose on /metrics; a new one when absent. */
  registry?: Registry;
  /** Background workers, started in order after the consumers, stopped together after them. */
  workers?: Worker[];
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

export async function serve(opts: ServeOptions): Promise<RunningService> {
  const registry = opts.registry ?? new Registry();
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
    unavailable: isTransient,
    ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
    ...(opts.health ? { health: opts.health } : {}),
    readiness: {
      ...opts.readiness,
      kafka:
        opts.kafkaReady ??
        (async () => {
          if (!adminConnected) {
            await admin.connect();
            adminConnected = true;
          }
          await admin.describeCluster();
        }),
      // Consuming, not merely connected: a crashed or stalled consumer, or a partition waiting behind a
      // message it cannot settle yet, says so here (messaging/consumer/runner.ts).
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
  for (const m of [...(opts.metrics ?? []), ...(opts.workers ?? []).flatMap((w) => w.metrics ?? [])]) registry.registerMetric(m);
  runners = opts.consumers?.(registry, tracing.tracer, onGiveUp) ?? [];
  for (const r of runners) await r.start();
  for (const w of opts.workers ?? []) await w.start();
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
      await Promise.all((opts.workers ?? []).map((w) => w.stop()));
      await pruner?.stop();
      if (adminConnected) await admin.disconnect();
      await opts.close();
      await tracing.shutdown();
    },
  };
}
