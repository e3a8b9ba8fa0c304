// Builds the basket service: the baskets API, and the consumer of product and order events.
import { MongoClient } from 'mongodb';
import type { Logger } from '@qtshop/shared/platform';
import { createKafka, infraFrom, mongoClientOptions } from '@qtshop/shared/infra';
import { startTracing, tracingFrom } from '@qtshop/shared/observability';
import { createConsumerRunner, mongoInbox, mongoInboxRetention, redeliveryWindowMs, consumerTuning } from '@qtshop/shared/messaging';
import { httpShutdown, shopperAccess } from '@qtshop/shared/http';
import { startService, type RunningService } from '@qtshop/shared/service';
import { basketsRouter } from './api';
import type { BasketConfig } from './config';
import { BASKET_TOPICS, basketHandlers } from './consumers';
import { ensureIndexes } from './store';

export type BasketService = RunningService;

/** The basket's MongoDB client, not yet connected, with its time bounds (MONGO_OPERATION_TIMEOUT_MS). */
export const basketMongoClient = (cfg: BasketConfig): MongoClient => {
  const { mongo } = infraFrom(cfg);
  return new MongoClient(mongo.url, mongoClientOptions(mongo));
};

export async function startBasket(cfg: BasketConfig, log: Logger, port = cfg.BASKET_PORT): Promise<BasketService> {
  const client = basketMongoClient(cfg);
  try {
    await client.connect();
    const db = client.db(cfg.BASKET_DB);
    await ensureIndexes(db);
    const kafka = createKafka(infraFrom(cfg).kafka, 'basket', log);
    return await startService({
      name: 'basket',
      log,
      port,
      host: cfg.HTTP_HOST,
      shutdown: httpShutdown(cfg),
      kafka,
      bodyLimit: cfg.HTTP_BODY_LIMIT,
      routers: [basketsRouter(db, { maxLines: cfg.BASKET_MAX_LINES, shoppers: shopperAccess(cfg) })],
      readiness: { database: () => db.command({ ping: 1 }) },
      tracing: startTracing('basket', tracingFrom(cfg)),
      consumers: (registry, tracer, onGiveUp) => [
        createConsumerRunner({
          onGiveUp,
          kafka,
          groupId: cfg.BASKET_GROUP,
          topics: BASKET_TOPICS,
          ...consumerTuning(cfg),
          handlers: basketHandlers(log),
          inbox: mongoInbox(db),
          log,
          registry,
          tracer,
        }),
      ],
      retention: {
        targets: [mongoInboxRetention(db, cfg.INBOX_RETENTION_MS, () => redeliveryWindowMs(kafka, BASKET_TOPICS))],
        intervalMs: cfg.RETENTION_INTERVAL_MS,
      },
      close: () => client.close(),
    });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
