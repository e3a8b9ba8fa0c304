import { env, loadConfig } from '@qtshop/shared/platform';
import { kafkaPrincipalSettings, pgRoleSettings } from '@qtshop/shared/infra';
import { httpSettings } from '@qtshop/shared/http';
import { outboxSettings } from '@qtshop/shared/outbox';
import { serviceSettings } from '@qtshop/shared/service';

export const inventorySettings = {
  ...serviceSettings,
  ...kafkaPrincipalSettings('inventory'),
  ...pgRoleSettings('inventory'),
  ADMIN_TOKEN: httpSettings.ADMIN_TOKEN,
  ...outboxSettings,
  INVENTORY_PORT: { doc: 'HTTP port of the inventory service', default: '3002', schema: env.port() },
  INVENTORY_GROUP: { doc: 'Kafka consumer group of the inventory service', default: 'qtshop-inventory', schema: env.string() },
  INVENTORY_DB: { doc: 'PostgreSQL database of the inventory service', default: 'inventory', schema: env.string() },
};

export const loadInventoryConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(inventorySettings, e);
export type InventoryConfig = ReturnType<typeof loadInventoryConfig>;
