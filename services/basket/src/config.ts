import { env, loadConfig } from '@qtshop/shared/platform';
import { kafkaPrincipalSettings } from '@qtshop/shared/infra';
import { shopperSettings } from '@qtshop/shared/http';
import { serviceSettings } from '@qtshop/shared/service';

export const basketSettings = {
  ...serviceSettings,
  ...kafkaPrincipalSettings('basket'),
  // Shoppers' JWTs (a basket is its customer's), the admin token that acts for everyone, rate limits.
  ...shopperSettings,
  BASKET_PORT: { doc: 'HTTP port of the basket service', default: '3003', schema: env.port() },
  BASKET_GROUP: { doc: 'Kafka consumer group of the basket service', default: 'qtshop-basket', schema: env.string() },
  BASKET_DB: { doc: 'MongoDB database of the basket service', default: 'basket', schema: env.string() },
  BASKET_MAX_LINES: { doc: 'Most lines (distinct products) a basket may hold; a larger PUT is a 400', default: '100', schema: env.int(1) },
};

export const loadBasketConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(basketSettings, e);
export type BasketConfig = ReturnType<typeof loadBasketConfig>;
