// Builds the inventory service: the stock API and the product / order consumer.
import type { Logger } from '@qtshop/shared/platform';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { pgStore, startService, type RunningService } from '@qtshop/shared/service';
import { inventoryRouter } from './api';
import type { InventoryConfig } from './config';
import { INVENTORY_TOPICS, inventoryHandlers, lockInventoryBatch } from './consumers';

export function startInventory(cfg: InventoryConfig, log: Logger, port = cfg.INVENTORY_PORT): Promise<RunningService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startService(cfg, {
    name: 'inventory',
    log,
    port,
    store: pgStore(cfg.INVENTORY_DB),
    groupId: cfg.INVENTORY_GROUP,
    topics: INVENTORY_TOPICS,
    handlers: inventoryHandlers(outbox),
    lockBatch: lockInventoryBatch,
    routers: (db) => [inventoryRouter(db, outbox, cfg.ADMIN_TOKEN)],
  });
}
