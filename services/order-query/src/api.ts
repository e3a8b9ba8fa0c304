// Order query HTTP API, the read side of orders: each route's contract (input and responses, also its
// OpenAPI description), then the handlers.
import { z } from 'zod';
import type { Knex } from '@qtshop/shared/infra';
import { AppError, contractRouter, mayRead, PageQuery, pageOf, routes, uuidParam, type ContractRouter, type ShopperAccess } from '@qtshop/shared/http';
import { OrderSummary } from './model';
import * as store from './store';

const Status = OrderSummary.shape.status;

export const ORDER_QUERY_ROUTES = routes({
  listOrders: {
    method: 'get',
    path: '/orders',
    summary: "List the caller's orders (the admin token: everyone's), most recently changed first",
    shopper: true,
    query: PageQuery.extend({ status: Status.optional().describe('Only orders in this status') }),
    responses: { 200: { description: 'A page of orders', body: pageOf(OrderSummary).extend({ status: Status.optional().describe('The status asked for') }) } },
  },
  getOrder: {
    method: 'get',
    path: '/orders/:id',
    summary: "An order, from the read model (the caller's own; another customer's is a 404)",
    params: z.object({ id: uuidParam() }),
    shopper: true,
    responses: { 200: { description: 'The order', body: OrderSummary } },
    errors: [404],
  },
});

export function orderQueryRouter(db: Knex, shoppers: ShopperAccess): ContractRouter {
  return contractRouter(
    ORDER_QUERY_ROUTES,
    {
      listOrders: async ({ query: q, identity }, ctx) => {
        // A shopper's list is their own; the admin sees every order.
        const mine = identity.admin ? {} : { customerId: identity.customerId };
        ctx.body = { ...(await store.listOrders(db, { ...q, ...mine })), limit: q.limit, offset: q.offset, ...(q.status ? { status: q.status } : {}) };
      },
      getOrder: async ({ params: { id }, identity }, ctx) => {
        const order = await store.findOrder(db, id);
        if (!order || !mayRead(identity, order.customerId)) throw AppError.notFound(`order ${id}`);
        ctx.body = order;
      },
    },
    { shoppers },
  );
}
