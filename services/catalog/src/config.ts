import {
  consumerSettings,
  env,
  httpSettings,
  infraSettings,
  loadConfig,
  loggingSettings,
  outboxSettings,
  retentionSettings,
  tracingSettings,
} from '@qtshop/shared';

export const catalogSettings = {
  ...infraSettings,
  ...loggingSettings,
  ...retentionSettings,
  ...consumerSettings,
  ...tracingSettings,
  ...httpSettings,
  ...outboxSettings,
  CATALOG_PORT: { doc: 'HTTP port of the catalog service', default: '3001', schema: env.port() },
  CATALOG_GROUP: { doc: 'Kafka consumer group of the catalog service', default: 'qtshop-catalog', schema: env.string() },
  CATALOG_DB: { doc: 'PostgreSQL database of the catalog service', default: 'catalog', schema: env.string() },
};

export const loadCatalogConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(catalogSettings, e);
export type CatalogConfig = ReturnType<typeof loadCatalogConfig>;
