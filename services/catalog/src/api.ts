// Catalog HTTP API: parse input, call one use case, set the response.
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, parseInput, requireBearer, type Knex } from '@qtshop/shared';
import { createProduct, updateProduct } from './domain/products';
import { ProductFields } from './model';
import * as store from './store';

const Id = z.object({ id: z.uuid({ message: 'must be a UUID' }) });
const Page = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function productsRouter(db: Knex, adminToken: string): Router {
  const r = new Router({ prefix: '/products' });
  const admin = requireBearer(adminToken);

  r.get('/', async (ctx) => {
    const page = parseInput(Page, ctx.query, 'query');
    ctx.body = { ...(await store.listProducts(db, page)), ...page };
  });

  r.get('/:id', async (ctx) => {
    const { id } = parseInput(Id, ctx.params, 'id');
    const product = await store.findProduct(db, id);
    if (!product) throw AppError.notFound(`product ${id}`);
    ctx.body = product;
  });

  r.post('/', admin, async (ctx) => {
    const fields = parseInput(ProductFields, ctx.request.body);
    const product = await createProduct({ db, traceparent: ctx.state.traceparent }, fields);
    ctx.status = 201;
    ctx.set('Location', `/products/${product.id}`);
    ctx.body = product;
  });

  r.put('/:id', admin, async (ctx) => {
    const { id } = parseInput(Id, ctx.params, 'id');
    const fields = parseInput(ProductFields, ctx.request.body);
    const product = await updateProduct({ db, traceparent: ctx.state.traceparent }, id, fields);
    if (!product) throw AppError.notFound(`product ${id}`);
    ctx.body = product;
  });

  return r;
}
