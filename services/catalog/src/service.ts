// Builds the catalog service: the products API and the ProductQuantityUpdated consumer.
import type { Logger } from '@qtshop/shared/platform';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { pgStore, startService, type RunningService } from '@qtshop/shared/service';
import { productsRouter } from './api';
import type { CatalogConfig } from './config';
import { CATALOG_TOPICS, catalogHandlers } from './consumers';

export type CatalogService = RunningService;

export function startCatalog(cfg: CatalogConfig, log: Logger, port = cfg.CATALOG_PORT): Promise<CatalogService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startService(cfg, {
    name: 'catalog',
    log,
    port,
    store: pgStore(cfg.CATALOG_DB),
    groupId: cfg.CATALOG_GROUP,
    topics: CATALOG_TOPICS,
    handlers: catalogHandlers(log),
    routers: (db) => [productsRouter(db, outbox, cfg.ADMIN_TOKEN)],
  });
}
