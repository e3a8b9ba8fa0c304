// Builds the catalog service: the products API and the ProductQuantityUpdated consumer.
import { createConsumerRunner, createDb, createKafka, infraFrom, pgInbox, startService, type Logger, type RunningService } from '@qtshop/shared';
import { productsRouter } from './api';
import type { CatalogConfig } from './config';
import { CATALOG_TOPICS, catalogHandlers } from './consumers';

export type CatalogService = RunningService;

export async function startCatalog(cfg: CatalogConfig, log: Logger, port = cfg.CATALOG_PORT): Promise<CatalogService> {
  const infra = infraFrom(cfg);
  const db = createDb(infra, cfg.CATALOG_DB);
  const kafka = createKafka(infra.kafka.brokers, 'catalog', log);
  return startService({
    name: 'catalog',
    log,
    port,
    kafka,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    routers: [productsRouter(db, cfg.ADMIN_TOKEN)],
    readiness: { database: () => db.raw('select 1') },
    consumers: (registry) => [
      createConsumerRunner({ kafka, groupId: cfg.CATALOG_GROUP, topics: CATALOG_TOPICS, handlers: catalogHandlers(log), inbox: pgInbox(db), log, registry }),
    ],
    close: () => db.destroy(),
  });
}
