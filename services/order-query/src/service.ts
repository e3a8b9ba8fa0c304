// Builds the order query service: the read API and the projection consumer.
import type { Logger } from '@qtshop/shared/platform';
import { infraFrom } from '@qtshop/shared/infra';
import { tracingFrom } from '@qtshop/shared/observability';
import { consumerTuning } from '@qtshop/shared/messaging';
import { httpShutdown, shopperAccess } from '@qtshop/shared/http';
import { startPgService, type RunningService } from '@qtshop/shared/service';
import { orderQueryRouter } from './api';
import type { OrderQueryConfig } from './config';
import { ORDER_QUERY_TOPICS, orderQueryHandlers } from './consumers';

export function startOrderQuery(cfg: OrderQueryConfig, log: Logger, port = cfg.ORDER_QUERY_PORT): Promise<RunningService> {
  return startPgService({
    name: 'order-query',
    log,
    port,
    host: cfg.HTTP_HOST,
    shutdown: httpShutdown(cfg),
    infra: infraFrom(cfg),
    tracing: tracingFrom(cfg),
    database: cfg.ORDER_QUERY_DB,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    groupId: cfg.ORDER_QUERY_GROUP,
    topics: ORDER_QUERY_TOPICS,
    routers: (db) => [orderQueryRouter(db, shopperAccess(cfg))],
    handlers: orderQueryHandlers(),
    consumer: consumerTuning(cfg),
    retention: { inboxMs: cfg.INBOX_RETENTION_MS, intervalMs: cfg.RETENTION_INTERVAL_MS },
  });
}
