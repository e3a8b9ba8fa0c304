// One way to start a service: its store (PostgreSQL or MongoDB, stores.ts), its routes, its consumer of
// `topics` applying events through the store's inbox, the pruner of its inbox (and of its own tables), its
// tracing, all from its configuration (serviceSettings), served by serve.ts.
import type { Metric } from 'prom-client';
import { infraFrom } from '../infra/addresses';
import { createKafka } from '../infra/kafka';
import { httpShutdown } from '../http/settings';
import type { ContractRouter } from '../http/contract';
import type { BatchLock, Handlers } from '../messaging/consumer/event';
import { createConsumerRunner } from '../messaging/consumer/runner';
import { consumerTuning } from '../messaging/consumer/settings';
import { redeliveryWindowMs, type RetentionTarget } from '../messaging/inbox/retention';
import { startTracing, tracingFrom } from '../observability/tracing';
import type { Logger } from '../platform/logging';
import { serve, type RunningService, type Worker } from './serve';
import type { ServiceConfig } from './settings';
import type { Store } from './stores';

export interface ServiceOptions<D, Tx> {
  name: string;
  log: Logger;
  /** The HTTP port (0 picks a free one). */
  port: number;
  store: Store<D, Tx>;
  /** Its consumer group and the topics it consumes, with a handler per event type. */
  groupId: string;
  topics: string[];
  handlers: Handlers<Tx>;
  /** The locks of a batch's events, taken before its handlers run (inventory's stock rows, in one order). */
  lockBatch?: BatchLock<Tx>;
  routers: (db: D) => ContractRouter[];
  /** Its own tables to prune besides the inbox (order-command's idempotency keys). */
  retentionTables?: (db: D) => RetentionTarget[];
  /** Its own metrics, given its database (created with registers: []). */
  metrics?: (db: D) => Metric[];
  /** Its background workers, given its database (order-command's decision deadline). */
  workers?: (db: D) => Worker[];
  /** A consumer could not be got consuming again: by default the process exits 1 (serve.ts). */
  onGiveUp?: (err: Error) => void;
}

export async function startService<D, Tx>(cfg: ServiceConfig, opts: ServiceOptions<D, Tx>): Promise<RunningService> {
  const infra = infraFrom(cfg);
  // Before the database: knex requires pg when it is created, and the pg instrumentation must see that.
  const tracing = startTracing(opts.name, tracingFrom(cfg));
  const store = await opts.store.open(infra);
  try {
    const kafka = createKafka(infra.kafka, opts.name, opts.log);
    return await serve({
      name: opts.name,
      log: opts.log,
      port: opts.port,
      host: cfg.HTTP_HOST,
      shutdown: httpShutdown(cfg),
      kafka,
      bodyLimit: cfg.HTTP_BODY_LIMIT,
      routers: opts.routers(store.db),
      readiness: { database: store.ping },
      tracing,
      ...(opts.onGiveUp ? { onGiveUp: opts.onGiveUp } : {}),
      consumers: (registry, tracer, onGiveUp) => [
        createConsumerRunner({
          onGiveUp,
          kafka,
          groupId: opts.groupId,
          topics: opts.topics,
          handlers: opts.handlers,
          ...(opts.lockBatch ? { lockBatch: opts.lockBatch } : {}),
          inbox: store.inbox,
          log: opts.log,
          registry,
          tracer,
          ...consumerTuning(cfg),
        }),
      ],
      retention: {
        targets: [store.inboxRetention(cfg.INBOX_RETENTION_MS, () => redeliveryWindowMs(kafka, opts.topics)), ...(opts.retentionTables?.(store.db) ?? [])],
        intervalMs: cfg.RETENTION_INTERVAL_MS,
      },
      ...(opts.metrics ? { metrics: opts.metrics(store.db) } : {}),
      ...(opts.workers ? { workers: opts.workers(store.db) } : {}),
      close: () => store.close(),
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    await tracing.shutdown().catch(() => undefined);
    throw err;
  }
}
