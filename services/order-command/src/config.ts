import { env, loadConfig } from '@qtshop/shared/platform';
import { shopperSettings } from '@qtshop/shared/http';
import { outboxSettings } from '@qtshop/shared/outbox';
import { DAY_MS } from '@qtshop/shared/messaging';
import { serviceSettings } from '@qtshop/shared/service';

export const orderCommandSettings = {
  ...serviceSettings,
  ...shopperSettings,
  ...outboxSettings,
  ORDER_COMMAND_PORT: { doc: 'HTTP port of the order command service', default: '3004', schema: env.port() },
  ORDER_COMMAND_GROUP: { doc: 'Kafka consumer group of the order command service', default: 'qtshop-order-command', schema: env.string() },
  ORDER_COMMAND_DB: { doc: 'PostgreSQL database of the order command service (event stream)', default: 'orders', schema: env.string() },
  ORDER_MAX_LINES: { doc: 'Most lines one order may have', default: '100', schema: env.int(1) },
  IDEMPOTENCY_KEY_RETENTION_MS: {
    doc: 'Idempotency-Key records of POST /orders older than this are deleted: a retry with the same key within it answers with the first order, a later one places a new order',
    default: String(DAY_MS),
    schema: env.int(1),
  },
};

export const loadOrderCommandConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(orderCommandSettings, e);
export type OrderCommandConfig = ReturnType<typeof loadOrderCommandConfig>;
