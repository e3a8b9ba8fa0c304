// Inventory HTTP API.
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, parseInput, requireBearer, type Knex } from '@qtshop/shared';
import { SetQuantity, setStock } from './domain/stock';
import * as store from './store';

const ProductId = z.object({ productId: z.uuid({ message: 'must be a UUID' }) });
const Page = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function inventoryRouter(db: Knex, adminToken: string): Router {
  const r = new Router({ prefix: '/inventory' });

  r.get('/', async (ctx) => {
    const page = parseInput(Page, ctx.query, 'query');
    ctx.body = { ...(await store.listItems(db, page)), ...page };
  });

  r.get('/:productId', async (ctx) => {
    const { productId } = parseInput(ProductId, ctx.params, 'productId');
    const item = await store.findItem(db, productId);
    if (!item) throw AppError.notFound(`product ${productId}`);
    ctx.body = item;
  });

  r.put('/:productId', requireBearer(adminToken), async (ctx) => {
    const { productId } = parseInput(ProductId, ctx.params, 'productId');
    const { quantity } = parseInput(SetQuantity, ctx.request.body);
    const item = await setStock({ db, traceparent: ctx.state.traceparent }, productId, quantity);
    if (!item) throw AppError.notFound(`product ${productId}`);
    ctx.body = item;
  });

  return r;
}
