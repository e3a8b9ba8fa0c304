// Builds the basket service: the baskets API, and the consumer of product and order events.
import type { Logger } from '@qtshop/shared/platform';
import { shopperAccess } from '@qtshop/shared/http';
import { mongoStore, startService, type RunningService } from '@qtshop/shared/service';
import { basketsRouter } from './api';
import type { BasketConfig } from './config';
import { BASKET_TOPICS, basketHandlers } from './consumers';
import { ensureIndexes } from './store';

export type BasketService = RunningService;

export function startBasket(cfg: BasketConfig, log: Logger, port = cfg.BASKET_PORT): Promise<BasketService> {
  return startService(cfg, {
    name: 'basket',
    log,
    port,
    store: mongoStore(cfg.BASKET_DB, ensureIndexes),
    groupId: cfg.BASKET_GROUP,
    topics: BASKET_TOPICS,
    handlers: basketHandlers(log),
    routers: (db) => [basketsRouter(db, { maxLines: cfg.BASKET_MAX_LINES, shoppers: shopperAccess(cfg, log) })],
  });
}
