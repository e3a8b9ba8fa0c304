// Catalog HTTP API: each route's contract (input and responses, also its OpenAPI description), then the
// handlers: call one use case, set the response.
import { z } from 'zod';
import type { Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { AppError, contractRouter, PageQuery, pageOf, routes, uuidParam, type ContractRouter } from '@qtshop/shared/http';
import { createProduct, updateProduct } from './domain/products';
import { Product, ProductFields } from './model';
import * as store from './store';

const Id = z.object({ id: uuidParam() });

export const CATALOG_ROUTES = routes({
  listProducts: {
    method: 'get',
    path: '/products',
    summary: 'List products, oldest first',
    query: PageQuery,
    responses: { 200: { description: 'A page of products', body: pageOf(Product) } },
  },
  getProduct: {
    method: 'get',
    path: '/products/:id',
    summary: 'A product',
    params: Id,
    responses: { 200: { description: 'The product', body: Product } },
    errors: [404],
  },
  createProduct: {
    method: 'post',
    path: '/products',
    summary: 'Create a product (emits ProductCreated)',
    admin: true,
    body: ProductFields,
    responses: { 201: { description: 'Created', body: Product, headers: { Location: 'The path of the new product' } } },
  },
  updateProduct: {
    method: 'put',
    path: '/products/:id',
    summary: "Replace a product's fields (emits ProductUpdated)",
    admin: true,
    params: Id,
    body: ProductFields,
    responses: { 200: { description: 'Updated', body: Product } },
    errors: [404],
  },
});

export function productsRouter(db: Knex, outbox: OutboxWriter, adminToken: string): ContractRouter {
  return contractRouter(
    CATALOG_ROUTES,
    {
      listProducts: async ({ query }, ctx) => {
        ctx.body = { ...(await store.listProducts(db, query)), ...query };
      },
      getProduct: async ({ params: { id } }, ctx) => {
        const product = await store.findProduct(db, id);
        if (!product) throw AppError.notFound(`product ${id}`);
        ctx.body = product;
      },
      createProduct: async ({ body }, ctx) => {
        const product = await createProduct({ db, outbox }, body);
        ctx.status = 201;
        ctx.set('Location', `/products/${product.id}`);
        ctx.body = product;
      },
      updateProduct: async ({ params: { id }, body }, ctx) => {
        const product = await updateProduct({ db, outbox }, id, body);
        if (!product) throw AppError.notFound(`product ${id}`);
        ctx.body = product;
      },
    },
    { adminToken },
  );
}
