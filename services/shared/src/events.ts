// Event contracts (DESIGN.md "Event payloads"): one zod schema per past-tense event type, the single
// source of truth for producers (the outbox writer validates before insert) and consumers (the runner
// validates before a handler sees the message). Types are z.infer of the schemas.
import { z } from 'zod';

const id = z.string().min(1).max(200);
const minorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ProductCreated = z.strictObject({
  productId: id,
  name: z.string(),
  description: z.string(),
  type: z.string(),
  brand: z.string(),
  pictureUrl: z.string(),
  price: minorUnits,
});
export const ProductUpdated = ProductCreated;
export const ProductQuantityUpdated = z.strictObject({ productId: id, quantity: z.number().int().min(0) });

export const OrderLine = z.strictObject({ productId: id, price: minorUnits, quantity: z.number().int().min(1) });
export const OrderPlaced = z.strictObject({ orderId: id, basketId: id, items: z.array(OrderLine).min(1), total: minorUnits });
export const OrderStockReserved = z.strictObject({ orderId: id, reason: z.string().optional() });
export const OrderStockRejected = z.strictObject({ orderId: id, reason: z.string().optional() });
export const OrderConfirmed = z.strictObject({ orderId: id, reason: z.string().optional() });
export const OrderRejected = z.strictObject({ orderId: id, reason: z.string().optional() });

/** Every event type, its payload schema and its aggregate type (which names the topic qtshop.<aggregatetype>). */
export const EVENTS = {
  ProductCreated: { schema: ProductCreated, aggregateType: 'product' },
  ProductUpdated: { schema: ProductUpdated, aggregateType: 'product' },
  ProductQuantityUpdated: { schema: ProductQuantityUpdated, aggregateType: 'inventory' },
  OrderStockReserved: { schema: OrderStockReserved, aggregateType: 'inventory' },
  OrderStockRejected: { schema: OrderStockRejected, aggregateType: 'inventory' },
  OrderPlaced: { schema: OrderPlaced, aggregateType: 'order' },
  OrderConfirmed: { schema: OrderConfirmed, aggregateType: 'order' },
  OrderRejected: { schema: OrderRejected, aggregateType: 'order' },
} as const;

export type EventType = keyof typeof EVENTS;
export type EventPayload<T extends EventType> = z.infer<(typeof EVENTS)[T]['schema']>;
export type AggregateType = (typeof EVENTS)[EventType]['aggregateType'];

export const topicOf = (aggregateType: string): string => `qtshop.${aggregateType}`;
export const TOPICS = [...new Set(Object.values(EVENTS).map((e) => topicOf(e.aggregateType)))];

export function isEventType(t: string | undefined): t is EventType {
  return t !== undefined && Object.prototype.hasOwnProperty.call(EVENTS, t);
}
