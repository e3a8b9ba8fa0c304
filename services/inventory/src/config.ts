import { env, loadConfig, loggingSettings } from '@qtshop/shared/platform';
import { infraSettings } from '@qtshop/shared/infra';
import { tracingSettings } from '@qtshop/shared/observability';
import { outboxSettings } from '@qtshop/shared/outbox';
import { consumerSettings, retentionSettings } from '@qtshop/shared/messaging';
import { httpSettings } from '@qtshop/shared/http';

export const inventorySettings = {
  ...infraSettings,
  ...loggingSettings,
  ...retentionSettings,
  ...consumerSettings,
  ...tracingSettings,
  ...httpSettings,
  ...outboxSettings,
  INVENTORY_PORT: { doc: 'HTTP port of the inventory service', default: '3002', schema: env.port() },
  INVENTORY_GROUP: { doc: 'Kafka consumer group of the inventory service', default: 'qtshop-inventory', schema: env.string() },
  INVENTORY_DB: { doc: 'PostgreSQL database of the inventory service', default: 'inventory', schema: env.string() },
};

export const loadInventoryConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(inventorySettings, e);
export type InventoryConfig = ReturnType<typeof loadInventoryConfig>;
