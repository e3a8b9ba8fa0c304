// Order query HTTP API: the read side of orders.
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, parseInput, type Knex } from '@qtshop/shared';
import * as store from './store';

const OrderId = z.object({ id: z.uuid({ message: 'must be a UUID' }) });
const Query = z.strictObject({
  status: z.enum(['Pending', 'Confirmed', 'Rejected']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function orderQueryRouter(db: Knex): Router {
  const r = new Router({ prefix: '/orders' });

  r.get('/', async (ctx) => {
    const q = parseInput(Query, ctx.query, 'query');
    ctx.body = { ...(await store.listOrders(db, q)), limit: q.limit, offset: q.offset, ...(q.status ? { status: q.status } : {}) };
  });

  r.get('/:id', async (ctx) => {
    const { id } = parseInput(OrderId, ctx.params, 'id');
    const order = await store.findOrder(db, id);
    if (!order) throw AppError.notFound(`order ${id}`);
    ctx.body = order;
  });

  return r;
}
