import { env, loadConfig } from '@qtshop/shared/platform';
import { kafkaPrincipalSettings, pgRoleSettings } from '@qtshop/shared/infra';
import { shopperSettings } from '@qtshop/shared/http';
import { outboxSettings } from '@qtshop/shared/outbox';
import { DAY_MS } from '@qtshop/shared/messaging';
import { serviceSettings } from '@qtshop/shared/service';

export const orderCommandSettings = {
  ...serviceSettings,
  ...kafkaPrincipalSettings('order-command'),
  ...pgRoleSettings('order_command'),
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
  ORDER_DECISION_TIMEOUT_MS: {
    doc: 'An order still waiting for its stock decision this long after it was placed is rejected (OrderRejected, reason decision_timeout); a reservation inventory makes after that is released',
    default: '300000',
    schema: env.int(1000),
  },
  ORDER_DECISION_SWEEP_INTERVAL_MS: {
    doc: 'Pause between sweeps for orders past ORDER_DECISION_TIMEOUT_MS (every replica sweeps; an order is rejected by one only)',
    default: '10000',
    schema: env.int(100),
  },
  ORDER_ADMISSION_MAX_PENDING_AGE_MS: {
    doc: 'Overload admission of POST /orders: while the ORDER_ADMISSION_LATE_ORDERS-th oldest order waiting for its stock decision has waited longer than this, new orders are refused at once with 503 overloaded and Retry-After instead of queueing; accepted again once it is at most half of this. An admitted order waits at most about (offered / confirmable rate) times this for its decision. 0 turns admission off',
    default: '600',
    schema: env.int(0),
  },
  ORDER_ADMISSION_LATE_ORDERS: {
    doc: 'How many pending orders must be older than ORDER_ADMISSION_MAX_PENDING_AGE_MS before new orders are refused: fewer stuck orders (awaiting ORDER_DECISION_TIMEOUT_MS) never close the shop',
    default: '10',
    schema: env.int(1),
  },
  ORDER_ADMISSION_SAMPLE_MS: {
    doc: 'Pause between two samples of the pending-order backlog for admission (one query at a time, each replica its own); a refusal is decided from the last sample, in memory',
    default: '250',
    schema: env.int(10),
  },
};

export const loadOrderCommandConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(orderCommandSettings, e);
export type OrderCommandConfig = ReturnType<typeof loadOrderCommandConfig>;
