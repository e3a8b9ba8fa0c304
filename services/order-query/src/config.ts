import { env, loadConfig, loggingSettings } from '@qtshop/shared/platform';
import { infraSettings } from '@qtshop/shared/infra';
import { tracingSettings } from '@qtshop/shared/observability';
import { consumerSettings, retentionSettings } from '@qtshop/shared/messaging';
import { httpSettings, shopperSettings } from '@qtshop/shared/http';

export const orderQuerySettings = {
  ...infraSettings,
  ...loggingSettings,
  ...retentionSettings,
  ...consumerSettings,
  ...tracingSettings,
  ...httpSettings,
  ...shopperSettings,
  ORDER_QUERY_PORT: { doc: 'HTTP port of the order query service', default: '3005', schema: env.port() },
  ORDER_QUERY_GROUP: { doc: 'Kafka consumer group of the order query service', default: 'qtshop-order-query', schema: env.string() },
  ORDER_QUERY_DB: { doc: 'PostgreSQL database of the order read model', default: 'order_query', schema: env.string() },
};

export const loadOrderQueryConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(orderQuerySettings, e);
export type OrderQueryConfig = ReturnType<typeof loadOrderQueryConfig>;
