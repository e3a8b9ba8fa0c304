// Builds the order command service: the orders API, the stock outcome / price consumer, the pending-order
// gauges and the decision deadline.
import type { Logger } from '@qtshop/shared/platform';
import { shopperAccess } from '@qtshop/shared/http';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { pgStore, startService, type RunningService } from '@qtshop/shared/service';
import { idempotencyKeyRetention } from './store';
import { ordersRouter } from './api';
import { pendingOrderGauges } from './metrics';
import { DecisionDeadline } from './decision-deadline';
import type { OrderCommandConfig } from './config';
import { ORDER_COMMAND_TOPICS, orderCommandHandlers } from './consumers';

export function startOrderCommand(cfg: OrderCommandConfig, log: Logger, port = cfg.ORDER_COMMAND_PORT): Promise<RunningService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startService(cfg, {
    name: 'order-command',
    log,
    port,
    store: pgStore(cfg.ORDER_COMMAND_DB),
    groupId: cfg.ORDER_COMMAND_GROUP,
    topics: ORDER_COMMAND_TOPICS,
    handlers: orderCommandHandlers(outbox),
    routers: (db) => [ordersRouter(db, outbox, cfg.ORDER_MAX_LINES, shopperAccess(cfg, log))],
    retentionTables: (db) => [idempotencyKeyRetention(db, cfg.IDEMPOTENCY_KEY_RETENTION_MS)],
    metrics: (db) => pendingOrderGauges(db, log),
    workers: (db) => [new DecisionDeadline({ db, outbox, timeoutMs: cfg.ORDER_DECISION_TIMEOUT_MS, intervalMs: cfg.ORDER_DECISION_SWEEP_INTERVAL_MS, log })],
  });
}
