// Order command use cases. A command is decided on the stream's current state and its events are
// appended with their outbox rows in the caller's transaction; a concurrent append at the same
// version is retried on a fresh read (inside a savepoint), never lost.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import { BasketId, OrderLine } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import * as store from '../store';
import { decide, fold, type OrderCommand, type OrderEvent, type OrderState } from './aggregate';
import { checkPrices } from './prices';
import { OrderRefused } from './refusals';

const MAX_APPEND_ATTEMPTS = 5;

export const PlaceOrderBody = (maxLines: number) =>
  z.strictObject({
    basketId: BasketId,
    items: z
      .array(
        z.strictObject({
          productId: z.uuid({ message: 'must be a UUID' }),
          price: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
          quantity: z.number().int().min(1).max(10_000),
        }),
      )
      .min(1, 'an order needs at least one line')
      .max(maxLines, `at most ${maxLines} lines`)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear on one line only'),
    basketRevision: z
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe(
        "The basket's revision the order is placed from (GET /baskets/:basketId answers it): when OrderPlaced reaches the basket, only the lines it held at that revision leave it. Passed on in OrderPlaced as it is; order-command does not read the basket",
      ),
  });
export type PlaceOrderBody = z.infer<ReturnType<typeof PlaceOrderBody>>;

/** An order as the API answers with it: the state its stream folds to, and the stream's version. */
export const OrderView = z.object({
  orderId: z.string(),
  status: z.enum(['Pending', 'Confirmed', 'Rejected', 'Cancelled']),
  basketId: z.string(),
  customerId: z.string().optional().describe('The customer who placed it (absent on orders placed before shoppers had identities)'),
  items: z.array(OrderLine),
  total: z.number().int().min(0).describe('Sum of price × quantity, minor units'),
  reason: z.string().optional().describe('Why the order was rejected or cancelled'),
  version: z.number().int().min(1).describe("The order's version: the number of events in its stream"),
});
export type OrderView = z.infer<typeof OrderView>;

const view = (state: OrderState, version: number): OrderView | undefined => (state.status === 'None' ? undefined : { ...state, version });

type Executed = { state: OrderState; appended: OrderEvent[]; version: number };

/** Appends `events` after `stream` with their outbox rows; each event carries its version in the stream, the order's version after it. */
async function append(trx: Knex.Transaction, outbox: OutboxWriter, orderId: string, stream: OrderEvent[], events: OrderEvent[]): Promise<Executed> {
  await store.appendEvents(trx, orderId, stream.length, events);
  for (const [i, e] of events.entries()) {
    await outbox.append(trx, { type: e.type, aggregateId: orderId, payload: { ...e.data, version: stream.length + 1 + i } });
  }
  return { state: fold([...stream, ...events]), appended: events, version: stream.length + events.length };
}

/** Decides `command` on the current stream and appends the outcome (events + outbox rows) within `trx`. */
export async function execute(trx: Knex.Transaction, outbox: OutboxWriter, command: OrderCommand): Promise<Executed> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await trx.transaction(async (sp) => {
        const stream = (await store.loadStream(sp, command.orderId)) as OrderEvent[];
        return append(sp, outbox, command.orderId, stream, decide(command, fold(stream)));
      });
    } catch (err) {
      // Past the last attempt the VersionConflict itself is the outcome (a 409 at the HTTP edge).
      if (err instanceof store.VersionConflict && attempt < MAX_APPEND_ATTEMPTS) continue;
      throw err;
    }
  }
}

const requestHash = (body: PlaceOrderBody) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

/**
 * PlaceOrder, from POST /orders, for the customer whose basket it is (the basket id is the customer id;
 * the HTTP edge checks the caller owns it). Every line must name a product order-command has seen, at its
 * current price. With an Idempotency-Key, a retry of the same request returns the order the first one
 * placed (whatever the prices are now); the same key with a different body is refused. Keys are the customer's own: another customer's
 * request with the same key is a request of its own.
 */
export async function placeOrder(
  deps: { db: Knex; outbox: OutboxWriter; newId?: () => string },
  body: PlaceOrderBody,
  clientKey?: string,
): Promise<{ order: OrderView; replayed: boolean }> {
  const customerId = body.basketId;
  const idempotencyKey = clientKey && `${customerId}/${clientKey}`;
  const replay = async (key: string) => {
    const existing = await store.findIdempotencyKey(deps.db, key);
    if (!existing) return undefined;
    if (existing.requestHash !== requestHash(body)) {
      throw new OrderRefused('idempotency_key_reused', 'this Idempotency-Key was used with a different request body');
    }
    const order = await getOrder(deps.db, existing.orderId);
    return order && { order, replayed: true };
  };
  // One transaction: claim the key (a request holding it makes this one wait for its outcome), check the
  // prices, start the order's stream. A refusal rolls the claim back with the rest. The order id is new,
  // so its stream is empty and nothing can append to it concurrently: no stream to read, no retry.
  const orderId = (deps.newId ?? randomUUID)();
  const placed = await inTransaction(deps.db, async (trx) => {
    if (idempotencyKey && !(await store.claimIdempotencyKey(trx, idempotencyKey, requestHash(body), orderId))) return undefined;
    const refused = checkPrices(
      body.items,
      await store.pricesOf(
        trx,
        body.items.map((i) => i.productId),
      ),
    );
    if (refused) throw refused;
    const { basketId, items, basketRevision } = body;
    const command: OrderCommand = { type: 'PlaceOrder', orderId, basketId, customerId, items, ...(basketRevision === undefined ? {} : { basketRevision }) };
    return append(trx, deps.outbox, orderId, [], decide(command, fold([])));
  });
  if (!placed) {
    // An earlier request with the same key claimed it: answer with its order.
    const earlier = await replay(idempotencyKey!);
    if (earlier) return earlier;
    throw new OrderRefused('idempotency_key_in_use', 'a request with this Idempotency-Key is in progress; retry');
  }
  return { order: view(placed.state, placed.version)!, replayed: false };
}

/**
 * CancelOrder, from POST /orders/:id/cancel (the HTTP edge checks the caller owns the order): appends
 * OrderCancelled unless it is cancelled already (then nothing changes); a rejected order cannot be.
 * Inventory releases what it reserved for the order when it sees the event.
 */
export async function cancelOrder(deps: { db: Knex; outbox: OutboxWriter }, orderId: string, reason: string): Promise<OrderView | undefined> {
  const done = await inTransaction(deps.db, (trx) => execute(trx, deps.outbox, { type: 'CancelOrder', orderId, reason }));
  return view(done.state, done.version);
}

export async function getOrder(db: Knex, orderId: string): Promise<OrderView | undefined> {
  const stream = await store.loadStream(db, orderId);
  return view(fold(stream as OrderEvent[]), stream.length);
}
