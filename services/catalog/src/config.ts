import { env, loadConfig, loggingSettings } from '@qtshop/shared/platform';
import { infraSettings } from '@qtshop/shared/infra';
import { tracingSettings } from '@qtshop/shared/observability';
import { outboxSettings } from '@qtshop/shared/outbox';
import { consumerSettings, retentionSettings } from '@qtshop/shared/messaging';
import { httpSettings } from '@qtshop/shared/http';

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
