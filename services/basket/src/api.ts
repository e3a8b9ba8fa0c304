// Basket HTTP API: each route's contract (input and responses, also its OpenAPI description), then the
// handlers: call one use case, set the response.
//
// No admin token on writes: a basket belongs to a shopper, not to an operator. Shopper authentication is
// not part of this service (the basket id, chosen by the client, e.g. a UUID, is the handle); put an
// authenticating gateway in front of it when the shop is exposed.
import { z } from 'zod';
import { AppError, BasketId, contractRouter, routes, type ContractRouter } from '@qtshop/shared';
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
      responses: { 200: { description: 'The basket, priced from the product cache', body: Basket } },
      errors: [404],
    },
    replaceBasket: {
      method: 'put',
      path: '/baskets/:basketId',
      summary: "Replace a basket's lines (product ids and quantities; names and prices come from the product cache)",
      params: Params,
      body: basketInput(maxLines),
      responses: { 200: { description: 'Replaced', body: Basket }, 201: { description: 'Created', body: Basket } },
      errors: [404],
    },
    deleteBasket: {
      method: 'delete',
      path: '/baskets/:basketId',
      summary: 'Empty a basket (also when there is none)',
      params: Params,
      responses: { 204: { description: 'Deleted' } },
    },
  });

export function basketsRouter(db: Db, opts: { maxLines: number }): ContractRouter {
  return contractRouter(basketRoutes(opts.maxLines), {
    getBasket: async ({ params: { basketId } }, ctx) => {
      const basket = await getBasket(db, basketId);
      if (!basket) throw AppError.notFound(`basket ${basketId}`);
      ctx.body = basket;
    },
    replaceBasket: async ({ params: { basketId }, body }, ctx) => {
      const { basket, created } = await replaceBasket({ db }, basketId, body).catch(rethrowForHttp);
      ctx.status = created ? 201 : 200;
      ctx.body = basket;
    },
    deleteBasket: async ({ params: { basketId } }, ctx) => {
      await deleteBasket(db, basketId);
      ctx.status = 204;
    },
  });
}
