// Builds the inventory service: the stock API and the product / order consumer.
import type { Logger } from '@qtshop/shared/platform';
import { infraFrom } from '@qtshop/shared/infra';
import { tracingFrom } from '@qtshop/shared/observability';
import { consumerTuning } from '@qtshop/shared/messaging';
import { httpShutdown } from '@qtshop/shared/http';
import { createOutboxWriter, outboxLimits } from '@qtshop/shared/outbox';
import { startPgService, type RunningService } from '@qtshop/shared/service';
import { inventoryRouter } from './api';
import type { InventoryConfig } from './config';
import { INVENTORY_TOPICS, inventoryHandlers } from './consumers';

export function startInventory(cfg: InventoryConfig, log: Logger, port = cfg.INVENTORY_PORT): Promise<RunningService> {
  const outbox = createOutboxWriter(outboxLimits(cfg));
  return startPgService({
    name: 'inventory',
    log,
    port,
    host: cfg.HTTP_HOST,
    shutdown: httpShutdown(cfg),
    infra: infraFrom(cfg),
    tracing: tracingFrom(cfg),
    database: cfg.INVENTORY_DB,
    bodyLimit: cfg.HTTP_BODY_LIMIT,
    groupId: cfg.INVENTORY_GROUP,
    topics: INVENTORY_TOPICS,
    routers: (db) => [inventoryRouter(db, outbox, cfg.ADMIN_TOKEN)],
    handlers: inventoryHandlers(outbox),
    consumer: consumerTuning(cfg),
    retention: { inboxMs: cfg.INBOX_RETENTION_MS, intervalMs: cfg.RETENTION_INTERVAL_MS },
  });
}
