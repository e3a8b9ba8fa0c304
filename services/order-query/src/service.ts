// Builds the order query service: the read API and the projection consumer.
import type { Logger } from '@qtshop/shared/platform';
import { shopperAccess } from '@qtshop/shared/http';
import { pgStore, startService, type RunningService } from '@qtshop/shared/service';
import { orderQueryRouter } from './api';
import type { OrderQueryConfig } from './config';
import { ORDER_QUERY_TOPICS, orderQueryHandlers } from './consumers';

export function startOrderQuery(cfg: OrderQueryConfig, log: Logger, port = cfg.ORDER_QUERY_PORT): Promise<RunningService> {
  return startService(cfg, {
    name: 'order-query',
    log,
    port,
    store: pgStore(cfg.ORDER_QUERY_DB),
    groupId: cfg.ORDER_QUERY_GROUP,
    topics: ORDER_QUERY_TOPICS,
    handlers: orderQueryHandlers(),
    routers: (db) => [orderQueryRouter(db, shopperAccess(cfg, log))],
  });
}
