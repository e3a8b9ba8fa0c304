// Builds the order command service: the orders API, the stock outcome / price consumer, the pending-order
// gauges, the decision deadline and the admission of new orders under overload.
import type { Logger } from '@qtshop/shared/platform';
import { shopperAccess } from '@qtshop/shared/http';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { pgStore, startService, type RunningService } from '@qtshop/shared/service';
import type { Knex } from '@qtshop/shared/infra';
import { idempotencyKeyRetention, pendingAgeAtRank } from './store';
import { OrderAdmission } from './admission';
import { ordersRouter } from './api';
import { pendingOrderGauges } from './metrics';
import { DecisionDeadline } from './decision-deadline';
import type { OrderCommandConfig } from './config';
import { ORDER_COMMAND_TOPICS, orderCommandHandlers } from './consumers';

export function startOrderCommand(cfg: OrderCommandConfig, log: Logger, port = cfg.ORDER_COMMAND_PORT): Promise<RunningService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  // One admission gate for the router that asks it and the worker list that samples for it.
  let admission: OrderAdmission | undefined;
  const admissionOf = (db: Knex) =>
    (admission ??= new OrderAdmission({
      maxAgeMs: cfg.ORDER_ADMISSION_MAX_PENDING_AGE_MS,
      lateOrders: cfg.ORDER_ADMISSION_LATE_ORDERS,
      sampleMs: cfg.ORDER_ADMISSION_SAMPLE_MS,
      measure: () => pendingAgeAtRank(db, cfg.ORDER_ADMISSION_LATE_ORDERS),
      log,
    }));
  return startService(cfg, {
    name: 'order-command',
    log,
    port,
    store: pgStore(cfg.ORDER_COMMAND_DB),
    groupId: cfg.ORDER_COMMAND_GROUP,
    topics: ORDER_COMMAND_TOPICS,
    handlers: orderCommandHandlers(outbox),
    routers: (db) => [ordersRouter(db, outbox, cfg.ORDER_MAX_LINES, shopperAccess(cfg, log), admissionOf(db))],
    retentionTables: (db) => [idempotencyKeyRetention(db, cfg.IDEMPOTENCY_KEY_RETENTION_MS)],
    metrics: (db) => pendingOrderGauges(db, log),
    workers: (db) => [
      new DecisionDeadline({ db, outbox, timeoutMs: cfg.ORDER_DECISION_TIMEOUT_MS, intervalMs: cfg.ORDER_DECISION_SWEEP_INTERVAL_MS, log }),
      admissionOf(db),
    ],
  });
}
