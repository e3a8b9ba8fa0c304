// Basket HTTP API: each route's contract (input and responses, also its OpenAPI description), then the
// handlers: call one use case, set the response.
//
// A basket belongs to a shopper: a customer's basket is the one whose id is their customer id (the subject
// of their JWT, auth.ts). Every route needs the shopper's token (or the admin token), and another
// customer's basket is a 403; writes are rate limited per customer.
import { z } from 'zod';
import { BasketId } from '@qtshop/shared/events';
import { AppError, contractRouter, requireCustomer, routes, type ContractRouter, type RouteHandlers, type ShopperAccess } from '@qtshop/shared/http';
import type { Db } from 'mongodb';
import { basketInput, deleteBasket, getBasket, replaceBasket } from './domain/basket';
import { rethrowForHttp } from './http-errors';
import { Basket } from './model';

const Params = z.object({ basketId: BasketId });

/** The routes; the PUT body allows at most `maxLines` lines (BASKET_MAX_LINES). */
export const basketRoutes = (maxLines: number) =>
  routes({
    getBasket: {
      method: 'get',
      path: '/baskets/:basketId',
      summary: 'A basket',
      params: Params,
      shopper: true,
      responses: { 200: { description: 'The basket, priced from the product cache, with its revision', body: Basket } },
      errors: [403, 404],
    },
    replaceBasket: {
      method: 'put',
      path: '/baskets/:basketId',
      summary: "Replace a basket's lines (product ids and quantities; names and prices come from the product cache)",
      params: Params,
      shopper: true,
      rateLimited: true,
      body: basketInput(maxLines),
      responses: {
        200: { description: 'Replaced (the revision moves on when the lines changed)', body: Basket },
        201: { description: 'Created (revision 1, or the deleted basket of this id filled again: its revision moves on)', body: Basket },
      },
      errors: [403, 404, 409],
      description:
        '404 not_found: a line names a product the basket service has not seen. 409 conflict: the basket kept changing while it was written (an order being taken out of it); retry.',
    },
    deleteBasket: {
      method: 'delete',
      path: '/baskets/:basketId',
      summary: 'Delete a basket (also when there is none); filled again, it carries on from its revision',
      params: Params,
      shopper: true,
      rateLimited: true,
      responses: { 204: { description: 'Deleted' } },
      errors: [403],
    },
  });

const own = (identity: Parameters<typeof requireCustomer>[0], basketId: string) => requireCustomer(identity, basketId, `basket ${basketId}`);

export function basketsRouter(db: Db, opts: { maxLines: number; shoppers: ShopperAccess }): ContractRouter {
  const handlers = {
    getBasket: async ({ params: { basketId }, identity }, ctx) => {
      own(identity, basketId);
      const basket = await getBasket(db, basketId);
      if (!basket) throw AppError.notFound(`basket ${basketId}`);
      ctx.body = basket;
    },
    replaceBasket: async ({ params: { basketId }, body, identity }, ctx) => {
      own(identity, basketId);
      const { basket, created } = await replaceBasket({ db }, basketId, body).catch(rethrowForHttp);
      ctx.status = created ? 201 : 200;
      ctx.body = basket;
    },
    deleteBasket: async ({ params: { basketId }, identity }, ctx) => {
      own(identity, basketId);
      await deleteBasket({ db }, basketId);
      ctx.status = 204;
    },
  } satisfies RouteHandlers<ReturnType<typeof basketRoutes>>;
  return contractRouter(basketRoutes(opts.maxLines), handlers, { shoppers: opts.shoppers });
}
