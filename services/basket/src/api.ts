// Basket HTTP API: parse input, call one use case, set the response.
//
// No admin token on writes: a basket belongs to a shopper, not to an operator. Shopper authentication is
// not part of this service (the basket id, chosen by the client, e.g. a UUID, is the handle); put an
// authenticating gateway in front of it when the shop is exposed.
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, BasketId, parseInput } from '@qtshop/shared';
import type { Db } from 'mongodb';
import { basketInput, deleteBasket, getBasket, replaceBasket } from './domain/basket';
import { rethrowForHttp } from './http-errors';

const Params = z.object({ basketId: BasketId });

export function basketsRouter(db: Db, opts: { maxLines: number }): Router {
  const r = new Router({ prefix: '/baskets' });
  const Input = basketInput(opts.maxLines);

  r.get('/:basketId', async (ctx) => {
    const { basketId } = parseInput(Params, ctx.params, 'basketId');
    const basket = await getBasket(db, basketId);
    if (!basket) throw AppError.notFound(`basket ${basketId}`);
    ctx.body = basket;
  });

  r.put('/:basketId', async (ctx) => {
    const { basketId } = parseInput(Params, ctx.params, 'basketId');
    const input = parseInput(Input, ctx.request.body);
    const { basket, created } = await replaceBasket({ db }, basketId, input).catch(rethrowForHttp);
    ctx.status = created ? 201 : 200;
    ctx.body = basket;
  });

  r.delete('/:basketId', async (ctx) => {
    const { basketId } = parseInput(Params, ctx.params, 'basketId');
    await deleteBasket(db, basketId);
    ctx.status = 204;
  });

  return r;
}
