// Builds the order command service: the orders API, the stock outcome / price consumer and the pending-order gauges.
import type { Logger } from '@qtshop/shared/platform';
import { infraFrom } from '@qtshop/shared/infra';
import { tracingFrom } from '@qtshop/shared/observability';
import { consumerTuning } from '@qtshop/shared/messaging';
import { httpShutdown, shopperAccess } from '@qtshop/shared/http';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { startPgService, type RunningService } from '@qtshop/shared/service';
import { idempotencyKeyRetention } from './store';
import { ordersRouter } from './api';
import { pendingOrderGauges } from './metrics';
import type { OrderCommandConfig } from './config';
import { ORDER_COMMAND_TOPICS, orderCommandHandlers } from './consumers';

export function startOrderCommand(cfg: OrderCommandConfig, log: Logger, port = cfg.ORDER_COMMAND_PORT): Promise<RunningService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startPgService({
    name: 'order-command',
    log,
    port,
    host: cfg.HTTP_HOST,
    shutdown: httpShutdown(cfg),
    infra: infraFrom(cfg),
    tracing: tracingFrom(cfg),
    database: cfg.ORDER_COMMAND_DB,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    groupId: cfg.ORDER_COMMAND_GROUP,
    topics: ORDER_COMMAND_TOPICS,
    routers: (db) => [ordersRouter(db, outbox, cfg.ORDER_MAX_LINES, shopperAccess(cfg))],
    handlers: orderCommandHandlers(outbox),
    consumer: consumerTuning(cfg),
    retention: {
      inboxMs: cfg.INBOX_RETENTION_MS,
      intervalMs: cfg.RETENTION_INTERVAL_MS,
      tables: (db) => [idempotencyKeyRetention(db, cfg.IDEMPOTENCY_KEY_RETENTION_MS)],
    },
    metrics: (db) => pendingOrderGauges(db, log),
  });
}
