// Order command HTTP API: place an order, read it back from its events.
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, parseInput, type Knex } from '@qtshop/shared';
import * as useCases from './domain/use-cases';
import { getOrder, PlaceOrderBody } from './domain/use-cases';
import { overHttp } from './http-errors';
import * as store from './store';

/** PlaceOrder at the HTTP edge: a refusal rejects as the AppError http-errors.ts gives it. */
export const placeOrder = overHttp(useCases.placeOrder);

const OrderId = z.object({ id: z.uuid({ message: 'must be a UUID' }) });
const IdempotencyKey = z.string().min(1).max(200).optional();

export function ordersRouter(db: Knex, maxLines: number): Router {
  const r = new Router({ prefix: '/orders' });
  const body = PlaceOrderBody(maxLines);

  // Placing an order is the shopper's act: no admin token (as for baskets).
  r.post('/', async (ctx) => {
    const key = parseInput(IdempotencyKey, ctx.get('idempotency-key') || undefined, 'Idempotency-Key');
    const input = parseInput(body, ctx.request.body);
    const { order, replayed } = await placeOrder({ db, traceparent: ctx.state.traceparent }, input, key);
    ctx.status = 201;
    ctx.set('Location', `/orders/${order.orderId}`);
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.body = order;
  });

  r.get('/:id', async (ctx) => {
    const { id } = parseInput(OrderId, ctx.params, 'id');
    const order = await getOrder(db, id);
    if (!order) throw AppError.notFound(`order ${id}`);
    ctx.body = order;
  });

  r.get('/:id/events', async (ctx) => {
    const { id } = parseInput(OrderId, ctx.params, 'id');
    const events = await store.loadStream(db, id);
    if (events.length === 0) throw AppError.notFound(`order ${id}`);
    ctx.body = { orderId: id, events };
  });

  return r;
}
