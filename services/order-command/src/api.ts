// Order command HTTP API: each route's contract (input and responses, also its OpenAPI description), then
// the handlers: place an order, read it back from its events.
import { z } from 'zod';
import type { Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { AppError, contractRouter, mayRead, requireCustomer, routes, uuidParam, type ContractRouter, type ShopperAccess } from '@qtshop/shared/http';
import * as useCases from './domain/use-cases';
import { getOrder, OrderView, PlaceOrderBody } from './domain/use-cases';
import type { OrderAdmission } from './admission';
import { overHttp } from './http-errors';
import * as store from './store';

/** PlaceOrder and CancelOrder at the HTTP edge: a refusal rejects as the AppError http-errors.ts gives it. */
export const placeOrder = overHttp(useCases.placeOrder);
const cancelOrder = overHttp(useCases.cancelOrder);

const OrderId = z.object({ id: uuidParam() });
/** The order's stream as store.loadStream reads it. */
const OrderStream = z.object({
  orderId: z.string(),
  events: z.array(z.object({ version: z.number().int().min(1), type: z.string(), data: z.record(z.string(), z.unknown()), occurredAt: z.iso.datetime() })),
});

/** The routes; an order has at most `maxLines` lines (ORDER_MAX_LINES). */
export const orderCommandRoutes = (maxLines: number) =>
  routes({
    // Placing an order is the shopper's act, from their own basket (its id is their customer id).
    placeOrder: {
      method: 'post',
      path: '/orders',
      summary: "Place an order from the caller's own basket (emits OrderPlaced); every line at the current price of a product order-command has seen",
      shopper: true,
      rateLimited: true,
      headers: z.object({
        'Idempotency-Key': z.string().min(1).max(200).optional().describe('A retry with the same key and body answers with the order the first request placed'),
      }),
      body: PlaceOrderBody(maxLines),
      responses: {
        201: {
          description: 'Placed (or, for a retried Idempotency-Key, the order placed the first time)',
          body: OrderView,
          headers: {
            Location: 'The path of the order',
            'Idempotent-Replayed': 'true when the order was placed by an earlier request with the same Idempotency-Key',
          },
        },
      },
      errors: [403, 404, 409, 422],
      errorNotes: {
        503: 'on POST /orders also overloaded: orders already placed wait longer than ORDER_ADMISSION_MAX_PENDING_AGE_MS for their stock decision, so new ones are refused at once; nothing changed, Retry-After says when to retry',
      },
      description:
        "basketRevision (optional): the basket's revision the order is placed from, as GET /baskets/:basketId answered it; OrderPlaced carries it, and the basket then takes out only the lines it held at that revision (lines added or changed since stay). Without it, only the basket's lines equal to an ordered line (product and quantity) leave. " +
        "403 forbidden: the basket is another customer's (a shopper orders from the basket whose id is their customer id). " +
        '404 product_not_found: a line names a product order-command has not seen. 409 price_changed: a line is not at the current price; 409 conflict: a request with the same Idempotency-Key is in progress. 422 idempotency_key_reused: the key was used with another body.',
    },
    getOrder: {
      method: 'get',
      path: '/orders/:id',
      summary: "An order, folded from its event stream (the caller's own; another customer's is a 404)",
      params: OrderId,
      shopper: true,
      responses: { 200: { description: 'The order', body: OrderView } },
      errors: [404],
    },
    cancelOrder: {
      method: 'post',
      path: '/orders/:id/cancel',
      summary: 'Cancel an order (emits OrderCancelled; inventory gives its stock back): its shopper or the admin token',
      description:
        'A Pending or Confirmed order is cancelled; cancelling a cancelled order again changes nothing (200, the same order). ' +
        "403 forbidden: another customer's order. 404 not_found: no such order. 409 order_not_cancellable: the order was rejected.",
      params: OrderId,
      shopper: true,
      rateLimited: true,
      responses: { 200: { description: 'The order, cancelled', body: OrderView } },
      errors: [403, 404, 409],
    },
    getOrderEvents: {
      method: 'get',
      path: '/orders/:id/events',
      summary: "An order's event stream (the caller's own; another customer's is a 404)",
      params: OrderId,
      shopper: true,
      responses: { 200: { description: 'The events, oldest first', body: OrderStream } },
      errors: [404],
    },
  });

/** The orders API; `admission` refuses new orders while the pipeline's backlog is over its limit (admission.ts). */
export function ordersRouter(db: Knex, outbox: OutboxWriter, maxLines: number, shoppers: ShopperAccess, admission: OrderAdmission): ContractRouter {
  // Another customer's order is answered as if it did not exist.
  const visible = async (id: string, identity: Parameters<typeof mayRead>[0]) => {
    const order = await getOrder(db, id);
    if (!order || !mayRead(identity, order.customerId)) throw AppError.notFound(`order ${id}`);
    return order;
  };
  const router = contractRouter(
    orderCommandRoutes(maxLines),
    {
      placeOrder: async ({ headers, body, identity }, ctx) => {
        // Before anything touches the database: an overloaded shop answers from memory.
        admission.admit((name, value) => ctx.set(name, value));
        requireCustomer(identity, body.basketId, `basket ${body.basketId}`);
        const { order, replayed } = await placeOrder({ db, outbox }, body, headers['Idempotency-Key']);
        ctx.status = 201;
        ctx.set('Location', `/orders/${order.orderId}`);
        if (replayed) ctx.set('Idempotent-Replayed', 'true');
        ctx.body = order;
      },
      getOrder: async ({ params: { id }, identity }, ctx) => {
        ctx.body = await visible(id, identity);
      },
      cancelOrder: async ({ params: { id }, identity }, ctx) => {
        const order = await getOrder(db, id);
        if (!order) throw AppError.notFound(`order ${id}`);
        if (!identity?.admin && identity?.customerId !== order.customerId) throw new AppError(403, 'forbidden', `order ${id} belongs to another customer`);
        ctx.body = await cancelOrder({ db, outbox }, id, identity?.admin && !identity.customerId ? 'cancelled_by_admin' : 'cancelled_by_customer');
      },
      getOrderEvents: async ({ params: { id }, identity }, ctx) => {
        await visible(id, identity);
        ctx.body = { orderId: id, events: await store.loadStream(db, id) };
      },
    },
    { shoppers },
  );
  return admission.enabled ? { ...router, readiness: { ...router.readiness, admission: async () => admission.readiness() } } : router;
}
