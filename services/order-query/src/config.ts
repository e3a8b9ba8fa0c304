import { env, loadConfig } from '@qtshop/shared/platform';
import { kafkaPrincipalSettings, pgRoleSettings } from '@qtshop/shared/infra';
import { shopperSettings } from '@qtshop/shared/http';
import { serviceSettings } from '@qtshop/shared/service';

export const orderQuerySettings = {
  ...serviceSettings,
  ...kafkaPrincipalSettings('order-query'),
  ...pgRoleSettings('order_query'),
  ...shopperSettings,
  ORDER_QUERY_PORT: { doc: 'HTTP port of the order query service', default: '3005', schema: env.port() },
  ORDER_QUERY_GROUP: { doc: 'Kafka consumer group of the order query service', default: 'qtshop-order-query', schema: env.string() },
  ORDER_QUERY_DB: { doc: 'PostgreSQL database of the order read model', default: 'order_query', schema: env.string() },
};

export const loadOrderQueryConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(orderQuerySettings, e);
export type OrderQueryConfig = ReturnType<typeof loadOrderQueryConfig>;
