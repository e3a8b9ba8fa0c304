import { env, infraSettings, loggingSettings, loadConfig } from '@qtshop/shared';

export const adminSettings = {
  ADMIN_TOKEN: {
    doc: 'Bearer token for write endpoints (Authorization: Bearer <token>); the dev default must be overridden outside development',
    default: 'dev-admin-token',
    schema: env.string(),
  },
};

export const catalogSettings = {
  ...infraSettings,
  ...loggingSettings,
  ...adminSettings,
  CATALOG_PORT: { doc: 'HTTP port of the catalog service', default: '3001', schema: env.port() },
  CATALOG_DB: { doc: 'PostgreSQL database of the catalog service', default: 'catalog', schema: env.string() },
  HTTP_BODY_LIMIT: { doc: 'Largest accepted JSON request body', default: '64kb', schema: env.string() },
};

export const loadCatalogConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(catalogSettings, e);
export type CatalogConfig = ReturnType<typeof loadCatalogConfig>;
