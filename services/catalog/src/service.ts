// Builds the catalog service (HTTP API now; the ProductQuantityUpdated consumer joins with the consumer runner).
import type { Server } from 'node:http';
import { closeServer, createDb, createHttpApp, createKafka, infraFrom, listen, type Logger } from '@qtshop/shared';
import { productsRouter } from './api';
import type { CatalogConfig } from './config';

export interface CatalogService {
  port: number;
  stop(): Promise<void>;
}

export async function startCatalog(cfg: CatalogConfig, log: Logger, port = cfg.CATALOG_PORT): Promise<CatalogService> {
  const infra = infraFrom(cfg);
  const db = createDb(infra, cfg.CATALOG_DB);
  const kafka = createKafka(infra.kafka.brokers, 'catalog', log);
  const admin = kafka.admin();
  const { app } = createHttpApp({
    name: 'catalog',
    log,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    routers: [productsRouter(db, cfg.ADMIN_TOKEN)],
    readiness: {
      database: () => db.raw('select 1'),
      kafka: async () => {
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  const { server, port: actual }: { server: Server; port: number } = await listen(app, port);
  log.info({ port: actual }, 'catalog listening');
  return {
    port: actual,
    async stop() {
      await closeServer(server);
      await admin.disconnect();
      await db.destroy();
    },
  };
}
