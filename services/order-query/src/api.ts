// Order query HTTP API, the read side of orders: each route's contract (input and responses, also its
// OpenAPI description), then the handlers.
import { z } from 'zod';
import { AppError, contractRouter, PageQuery, pageOf, routes, uuidParam, type ContractRouter, type Knex } from '@qtshop/shared';
import { OrderSummary } from './model';
import * as store from './store';

const Status = OrderSummary.shape.status;

export const ORDER_QUERY_ROUTES = routes({
  listOrders: {
    method: 'get',
    path: '/orders',
    summary: 'List orders, most recently changed first',
    query: PageQuery.extend({ status: Status.optional().describe('Only orders in this status') }),
    responses: { 200: { description: 'A page of orders', body: pageOf(OrderSummary).extend({ status: Status.optional().describe('The status asked for') }) } },
  },
  getOrder: {
    method: 'get',
    path: '/orders/:id',
    summary: 'An order, from the read model',
    params: z.object({ id: uuidParam() }),
    responses: { 200: { description: 'The order', body: OrderSummary } },
    errors: [404],
  },
});

export function orderQueryRouter(db: Knex): ContractRouter {
  return contractRouter(ORDER_QUERY_ROUTES, {
    listOrders: async ({ query: q }, ctx) => {
      ctx.body = { ...(await store.listOrders(db, q)), limit: q.limit, offset: q.offset, ...(q.status ? { status: q.status } : {}) };
    },
    getOrder: async ({ params: { id } }, ctx) => {
      const order = await store.findOrder(db, id);
      if (!order) throw AppError.notFound(`order ${id}`);
      ctx.body = order;
    },
  });
}
