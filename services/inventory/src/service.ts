// Builds the inventory service: the stock API and the product event consumer.
import { createConsumerRunner, createDb, createKafka, infraFrom, pgInbox, startService, type Logger, type RunningService } from '@qtshop/shared';
import { inventoryRouter } from './api';
import type { InventoryConfig } from './config';
import { INVENTORY_TOPICS, inventoryHandlers } from './consumers';

export async function startInventory(cfg: InventoryConfig, log: Logger, port = cfg.INVENTORY_PORT): Promise<RunningService> {
  const infra = infraFrom(cfg);
  const db = createDb(infra, cfg.INVENTORY_DB);
  const kafka = createKafka(infra.kafka.brokers, 'inventory', log);
  return startService({
    name: 'inventory',
    log,
    port,
    kafka,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    routers: [inventoryRouter(db, cfg.ADMIN_TOKEN)],
    readiness: { database: () => db.raw('select 1') },
    consumers: (registry) => [
      createConsumerRunner({ kafka, groupId: cfg.INVENTORY_GROUP, topics: INVENTORY_TOPICS, handlers: inventoryHandlers(), inbox: pgInbox(db), log, registry }),
    ],
    close: () => db.destroy(),
  });
}
