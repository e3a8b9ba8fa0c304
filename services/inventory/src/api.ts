// Inventory HTTP API: each route's contract (input and responses, also its OpenAPI description), then the
// handlers. A stock item's ETag is its version ("<version>", domain/precondition.ts).
import { z } from 'zod';
import type { Context } from 'koa';
import type { Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { AppError, contractRouter, PageQuery, pageOf, routes, uuidParam, type ContractRouter } from '@qtshop/shared/http';
import { AdjustStockBody, adjustStockOf, type AdjustRefusal } from './domain/adjustment';
import { etagOf } from './domain/precondition';
import { SetQuantity, setStock } from './domain/stock';
import { AdjustedStock, StockItem } from './model';
import * as store from './store';

const ProductId = z.object({ productId: uuidParam() });
const ETAG = { ETag: 'The stock item\'s version as a strong ETag ("<version>"), for If-Match on PUT' };

/** Each refusal of an adjustment as HTTP: its status (the code is the refusal's). */
const REFUSALS: Record<AdjustRefusal, number> = { insufficient_stock: 409, stock_limit_exceeded: 409, idempotency_key_reused: 422 };

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
    responses: { 200: { description: 'The stock item', body: StockItem, headers: ETAG } },
    errors: [404],
  },
  setStock: {
    method: 'put',
    path: '/inventory/:productId',
    summary: "Set a product's stock (emits ProductQuantityUpdated)",
    description:
      'An absolute set. Without If-Match it replaces whatever the stock is, reservations made since the caller read it included: ' +
      'to restock or write off, prefer POST /inventory/{productId}/adjustments, or send the ETag of your read in If-Match. ' +
      '412 precondition_failed: If-Match does not match the current version (stale or malformed); nothing changes, and the ETag header and the message carry the current one. ' +
      'Recorded in the stock_adjustments ledger (kind set).',
    admin: true,
    params: ProductId,
    headers: z.object({
      'If-Match': z
        .string()
        .max(1000)
        .optional()
        .describe('Set only if the stock item is still at this ETag (from GET, PUT or an adjustment); * for any existing item'),
    }),
    body: SetQuantity,
    responses: { 200: { description: 'The stock item after the change', body: StockItem, headers: ETAG } },
    errors: [404, 412],
  },
  adjustStock: {
    method: 'post',
    path: '/inventory/:productId/adjustments',
    summary: "Change a product's stock by a delta (restock or write-off; emits ProductQuantityUpdated)",
    description:
      'Relative to the stock as it is when applied, under the row lock reservations take: no reservation is lost. Recorded in the stock_adjustments ledger. ' +
      '409 insufficient_stock: the stock would go below 0; 409 stock_limit_exceeded: over 1,000,000,000; nothing changes. ' +
      '422 idempotency_key_reused: the Idempotency-Key was used for another adjustment of this product. ' +
      '200 rather than 201: the resource answered is the stock item, which existed before; the ledger row is not a resource of its own.',
    admin: true,
    params: ProductId,
    headers: z.object({
      'Idempotency-Key': z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('A retry with the same key and body answers with the first adjustment, applied once (keys are per product and kept)'),
    }),
    body: AdjustStockBody,
    responses: {
      200: {
        description: 'The stock item after the adjustment, and the adjustment (for a retried Idempotency-Key, the first one, and the stock item as it is now)',
        body: AdjustedStock,
        headers: { ...ETAG, 'Idempotent-Replayed': 'true when the adjustment was made by an earlier request with the same Idempotency-Key' },
      },
    },
    errors: [404, 409, 422],
  },
});

/** Answers with `body` (by default the stock item) and the stock item's ETag. */
const answer = (ctx: Context, current: store.VersionedItem, body: unknown = current.item) => {
  ctx.set('ETag', etagOf(current.version));
  ctx.body = body;
};

export function inventoryRouter(db: Knex, outbox: OutboxWriter, adminToken: string): ContractRouter {
  return contractRouter(
    INVENTORY_ROUTES,
    {
      listStock: async ({ query }, ctx) => {
        ctx.body = { ...(await store.listItems(db, query)), ...query };
      },
      getStock: async ({ params: { productId } }, ctx) => {
        const current = await store.findVersioned(db, productId);
        if (!current) throw AppError.notFound(`product ${productId}`);
        answer(ctx, current);
      },
      setStock: async ({ params: { productId }, headers, body: { quantity } }, ctx) => {
        const set = await setStock({ db, outbox }, productId, quantity, headers['If-Match']);
        if (set.outcome === 'not_found') throw AppError.notFound(`product ${productId}`);
        if (set.outcome === 'stale') {
          ctx.set('ETag', etagOf(set.version));
          throw new AppError(412, 'precondition_failed', `If-Match does not match the stock item of ${productId}, now at ETag ${etagOf(set.version)}`);
        }
        answer(ctx, set.current);
      },
      adjustStock: async ({ params: { productId }, headers, body }, ctx) => {
        const adjusted = await adjustStockOf({ db, outbox }, productId, body, headers['Idempotency-Key']);
        if (adjusted.outcome === 'not_found') throw AppError.notFound(`product ${productId}`);
        if (adjusted.outcome === 'refused') throw new AppError(REFUSALS[adjusted.refusal], adjusted.refusal, adjusted.message);
        if (adjusted.outcome === 'replayed') ctx.set('Idempotent-Replayed', 'true');
        answer(ctx, adjusted.current, { ...adjusted.current.item, adjustment: adjusted.adjustment } satisfies AdjustedStock);
      },
    },
    { adminToken },
  );
}
