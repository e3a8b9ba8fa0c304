// Builds the catalog service: the products API and the ProductQuantityUpdated consumer.
import type { Logger } from '@qtshop/shared/platform';
import { infraFrom } from '@qtshop/shared/infra';
import { tracingFrom } from '@qtshop/shared/observability';
import { consumerTuning } from '@qtshop/shared/messaging';
import { httpShutdown } from '@qtshop/shared/http';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { startPgService, type RunningService } from '@qtshop/shared/service';
import { productsRouter } from './api';
import type { CatalogConfig } from './config';
import { CATALOG_TOPICS, catalogHandlers } from './consumers';

export type CatalogService = RunningService;

export function startCatalog(cfg: CatalogConfig, log: Logger, port = cfg.CATALOG_PORT): Promise<CatalogService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startPgService({
    name: 'catalog',
    log,
    port,
    host: cfg.HTTP_HOST,
    shutdown: httpShutdown(cfg),
    infra: infraFrom(cfg),
    tracing: tracingFrom(cfg),
    database: cfg.CATALOG_DB,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    groupId: cfg.CATALOG_GROUP,
    topics: CATALOG_TOPICS,
    routers: (db) => [productsRouter(db, outbox, cfg.ADMIN_TOKEN)],
    handlers: catalogHandlers(log),
    consumer: consumerTuning(cfg),
    retention: { inboxMs: cfg.INBOX_RETENTION_MS, intervalMs: cfg.RETENTION_INTERVAL_MS },
  });
}
