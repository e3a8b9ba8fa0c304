// Event contracts (DESIGN.md "Event payloads"): one zod schema per past-tense event type, the single
// source of truth for producers (the outbox writer validates before insert), consumers (the runner
// validates before a handler sees the message) and the published contracts (contracts/events/, generated
// by npm run contracts). Types are z.infer of the schemas.
//
// Payloads are read tolerantly: z.object strips a field the schema does not know instead of refusing the
// event, so a consumer still on the released schema keeps working when a producer adds an optional field
// (the one change the compatibility check lets through, README "Contracts"). Producers cannot add one by
// accident: appendToOutbox takes a typed payload and writes what the schema parsed.
import { z } from 'zod';

const id = z.string().min(1).max(200);
const minorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('An amount in minor units (cents)');
/**
 * The version of the event's aggregate after the change the event reports (README "Events and versions"):
 * it starts at 1 and grows by one with every change of that aggregate, written in the change's transaction.
 * Consumers that keep state derived from the aggregate apply an event only when it is newer than what they
 * hold (versions.ts), so a late or redriven event never rolls their state back.
 */
const version = z
  .number()
  .int()
  .min(1)
  .describe(
    "The version of the event's aggregate after the change it reports: 1 first, +1 per change; apply an event only when it is newer than what you hold",
  );

export const ProductCreated = z.object({
  productId: id,
  name: z.string(),
  description: z.string(),
  type: z.string(),
  brand: z.string(),
  pictureUrl: z.string(),
  price: minorUnits,
  /** The product's version: ProductCreated is 1, each update +1. */
  version,
});
export const ProductUpdated = ProductCreated;
/** `version` is the stock item's: 1 when inventory created the row, +1 per quantity change (set, reservation, release). */
export const ProductQuantityUpdated = z.object({ productId: id, quantity: z.number().int().min(0), version });

/**
 * A basket's id, chosen by the client (e.g. a UUID per shopper session): 1–100 of A–Z a–z 0–9 _ -. The
 * basket API takes it and order-command's PlaceOrder names the basket it orders with it. OrderPlaced's
 * basketId stays the looser `id`, so that no event published before this rule turns invalid.
 */
export const BasketId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be 1-100 characters of A-Z, a-z, 0-9, _ and -');

export const OrderLine = z.object({ productId: id, price: minorUnits, quantity: z.number().int().min(1) });
// Order events: `version` is the event's version in the order's event stream (order_events.version).
export const OrderPlaced = z.object({
  orderId: id,
  basketId: id,
  customerId: id.optional().describe('The customer who placed the order (the subject of their token; absent on orders placed before shoppers had identities)'),
  items: z.array(OrderLine).min(1),
  total: minorUnits,
  basketRevision: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "The basket's revision the order was placed from, as the client read it from the basket (absent when the client did not say, and on orders placed before baskets had revisions): the basket takes out only the lines it held then",
    ),
  version,
});
export const OrderConfirmed = z.object({ orderId: id, reason: z.string().optional(), version });
export const OrderRejected = z.object({ orderId: id, reason: z.string().optional(), version });
/** Its shopper or an operator cancelled the order; inventory gives back what it reserved for it. */
export const OrderCancelled = z.object({
  orderId: id,
  reason: z.string().optional().describe('Why, when said (e.g. cancelled_by_customer, cancelled_by_admin)'),
  version,
});
/**
 * The stock decision for an order (keyed by orderId): inventory decides once per order, in the transaction
 * that records OrderPlaced in its inbox (version 1); releasing the stock of an order cancelled or rejected
 * after it was reserved is the decision's version 2 (stock_decisions.version).
 */
export const OrderStockReserved = z.object({ orderId: id, reason: z.string().optional(), version });
export const OrderStockRejected = z.object({ orderId: id, reason: z.string().optional(), version });

/**
 * Every event type: its payload schema, its aggregate type (which names the topic qtshop.<aggregatetype>),
 * the payload field whose value is the record's key (the aggregate id), and one line for the published contract.
 */
export const EVENTS = {
  ProductCreated: { schema: ProductCreated, aggregateType: 'product', key: 'productId', summary: 'The catalog created a product.' },
  ProductUpdated: {
    schema: ProductUpdated,
    aggregateType: 'product',
    key: 'productId',
    summary: "The catalog changed a product's fields (the whole product).",
  },
  ProductQuantityUpdated: {
    schema: ProductQuantityUpdated,
    aggregateType: 'inventory',
    key: 'productId',
    summary: "Inventory changed a product's stock (set, reservation or release).",
  },
  OrderStockReserved: {
    schema: OrderStockReserved,
    aggregateType: 'inventory',
    key: 'orderId',
    summary: 'Inventory reserved the stock of every line of an order.',
  },
  OrderStockRejected: {
    schema: OrderStockRejected,
    aggregateType: 'inventory',
    key: 'orderId',
    summary: 'Inventory could not reserve the stock of an order (reason says why).',
  },
  OrderPlaced: { schema: OrderPlaced, aggregateType: 'order', key: 'orderId', summary: 'A shopper placed an order (order-command appended it to the stream).' },
  OrderConfirmed: { schema: OrderConfirmed, aggregateType: 'order', key: 'orderId', summary: 'An order was confirmed: its stock is reserved.' },
  OrderRejected: {
    schema: OrderRejected,
    aggregateType: 'order',
    key: 'orderId',
    summary: 'An order was rejected (reason says why: the stock, or decision_timeout when no stock decision came in time).',
  },
  OrderCancelled: { schema: OrderCancelled, aggregateType: 'order', key: 'orderId', summary: 'An order was cancelled by its shopper or an operator.' },
} as const satisfies Record<string, { schema: z.ZodObject; aggregateType: string; key: string; summary: string }>;

export type EventType = keyof typeof EVENTS;
export type EventPayload<T extends EventType> = z.infer<(typeof EVENTS)[T]['schema']>;

/** Every event topic is this prefix and the aggregate type (the connectors' route.topic.replacement says the same). */
export const TOPIC_PREFIX = 'qtshop.';
export const topicOf = (aggregateType: string): string => `${TOPIC_PREFIX}${aggregateType}`;
export const TOPICS = [...new Set(Object.values(EVENTS).map((e) => topicOf(e.aggregateType)))];

export function isEventType(t: string | undefined): t is EventType {
  return t !== undefined && Object.prototype.hasOwnProperty.call(EVENTS, t);
}
