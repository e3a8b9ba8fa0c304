import { env, loadConfig, loggingSettings } from '@qtshop/shared/platform';
import { infraSettings } from '@qtshop/shared/infra';
import { tracingSettings } from '@qtshop/shared/observability';
import { consumerSettings, retentionSettings } from '@qtshop/shared/messaging';
import { httpSettings, shopperSettings } from '@qtshop/shared/http';

export const basketSettings = {
  ...infraSettings,
  ...loggingSettings,
  ...retentionSettings,
  ...consumerSettings,
  ...tracingSettings,
  // Shoppers' JWTs (a basket is its customer's), the admin token that acts for everyone, rate limits.
  ...shopperSettings,
  HTTP_BODY_LIMIT: httpSettings.HTTP_BODY_LIMIT,
  HTTP_HOST: httpSettings.HTTP_HOST,
  HTTP_DRAIN_DELAY_MS: httpSettings.HTTP_DRAIN_DELAY_MS,
  HTTP_SHUTDOWN_GRACE_MS: httpSettings.HTTP_SHUTDOWN_GRACE_MS,
  BASKET_PORT: { doc: 'HTTP port of the basket service', default: '3003', schema: env.port() },
  BASKET_GROUP: { doc: 'Kafka consumer group of the basket service', default: 'qtshop-basket', schema: env.string() },
  BASKET_DB: { doc: 'MongoDB database of the basket service', default: 'basket', schema: env.string() },
  BASKET_MAX_LINES: { doc: 'Most lines (distinct products) a basket may hold; a larger PUT is a 400', default: '100', schema: env.int(1) },
};

export const loadBasketConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(basketSettings, e);
export type BasketConfig = ReturnType<typeof loadBasketConfig>;
