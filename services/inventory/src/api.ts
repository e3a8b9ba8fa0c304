// Inventory HTTP API: each route's contract (input and responses, also its OpenAPI description), then the
// handlers.
import { z } from 'zod';
import type { Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { AppError, contractRouter, PageQuery, pageOf, routes, uuidParam, type ContractRouter } from '@qtshop/shared/http';
import { SetQuantity, setStock } from './domain/stock';
import { StockItem } from './model';
import * as store from './store';

const ProductId = z.object({ productId: uuidParam() });

export const INVENTORY_ROUTES = routes({
  listStock: {
    method: 'get',
    path: '/inventory',
    summary: 'List stock items',
    query: PageQuery,
    responses: { 200: { description: 'A page of stock items', body: pageOf(StockItem) } },
  },
  getStock: {
    method: 'get',
    path: '/inventory/:productId',
    summary: "A product's stock",
    params: ProductId,
    responses: { 200: { description: 'The stock item', body: StockItem } },
    errors: [404],
  },
  setStock: {
    method: 'put',
    path: '/inventory/:productId',
    summary: "Set a product's stock (emits ProductQuantityUpdated)",
    admin: true,
    params: ProductId,
    body: SetQuantity,
    responses: { 200: { description: 'The stock item after the change', body: StockItem } },
    errors: [404],
  },
});

export function inventoryRouter(db: Knex, outbox: OutboxWriter, adminToken: string): ContractRouter {
  return contractRouter(
    INVENTORY_ROUTES,
    {
      listStock: async ({ query }, ctx) => {
        ctx.body = { ...(await store.listItems(db, query)), ...query };
      },
      getStock: async ({ params: { productId } }, ctx) => {
        const item = await store.findItem(db, productId);
        if (!item) throw AppError.notFound(`product ${productId}`);
        ctx.body = item;
      },
      setStock: async ({ params: { productId }, body: { quantity } }, ctx) => {
        const item = await setStock({ db, outbox }, productId, quantity);
        if (!item) throw AppError.notFound(`product ${productId}`);
        ctx.body = item;
      },
    },
    { adminToken },
  );
}
