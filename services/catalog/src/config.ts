import { env, loadConfig } from '@qtshop/shared/platform';
import { kafkaPrincipalSettings, pgRoleSettings } from '@qtshop/shared/infra';
import { httpSettings } from '@qtshop/shared/http';
import { outboxSettings } from '@qtshop/shared/outbox';
import { serviceSettings } from '@qtshop/shared/service';

export const catalogSettings = {
  ...serviceSettings,
  ...kafkaPrincipalSettings('catalog'),
  ...pgRoleSettings('catalog'),
  ADMIN_TOKEN: httpSettings.ADMIN_TOKEN,
  ...outboxSettings,
  CATALOG_PORT: { doc: 'HTTP port of the catalog service', default: '3001', schema: env.port() },
  CATALOG_GROUP: { doc: 'Kafka consumer group of the catalog service', default: 'qtshop-catalog', schema: env.string() },
  CATALOG_DB: { doc: 'PostgreSQL database of the catalog service', default: 'catalog', schema: env.string() },
};

export const loadCatalogConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(catalogSettings, e);
export type CatalogConfig = ReturnType<typeof loadCatalogConfig>;
