// Order command HTTP API: each route's contract (input and responses, also its OpenAPI description), then
// the handlers: place an order, read it back from its events.
import { z } from 'zod';
import type { Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { AppError, contractRouter, mayRead, requireCustomer, routes, uuidParam, type ContractRouter, type ShopperAccess } from '@qtshop/shared/http';
import * as useCases from './domain/use-cases';
import { getOrder, OrderView, PlaceOrderBody } from './domain/use-cases';
import { overHttp } from './http-errors';
import * as store from './store';

/** PlaceOrder at the HTTP edge: a refusal rejects as the AppError http-errors.ts gives it. */
export const placeOrder = overHttp(useCases.placeOrder);

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
      description:
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

export function ordersRouter(db: Knex, outbox: OutboxWriter, maxLines: number, shoppers: ShopperAccess): ContractRouter {
  // Another customer's order is answered as if it did not exist.
  const visible = async (id: string, identity: Parameters<typeof mayRead>[0]) => {
    const order = await getOrder(db, id);
    if (!order || !mayRead(identity, order.customerId)) throw AppError.notFound(`order ${id}`);
    return order;
  };
  return contractRouter(
    orderCommandRoutes(maxLines),
    {
      placeOrder: async ({ headers, body, identity }, ctx) => {
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
      getOrderEvents: async ({ params: { id }, identity }, ctx) => {
        await visible(id, identity);
        ctx.body = { orderId: id, events: await store.loadStream(db, id) };
      },
    },
    { shoppers },
  );
}
