// Inventory use cases: stock changes and their events commit together.
import { z } from 'zod';
import { appendToOutbox, AppError, type Knex } from '@qtshop/shared';
import * as store from '../store';

export interface StockItem {
  productId: string;
  name: string;
  quantity: number;
  updatedAt: string;
}

export const SetQuantity = z.strictObject({ quantity: z.number().int().min(0).max(1_000_000_000) });

export async function setStock(ctx: { db: Knex; traceparent?: string }, productId: string, quantity: number): Promise<StockItem> {
  return ctx.db.transaction(async (trx) => {
    const changed = await store.setQuantity(trx, productId, quantity);
    if (!changed) throw AppError.notFound(`product ${productId}`);
    await appendToOutbox(trx, { type: 'ProductQuantityUpdated', aggregateId: productId, payload: { productId, quantity, version: changed.version }, traceparent: ctx.traceparent });
    return changed.item;
  });
}

/** ProductCreated / ProductUpdated: inventory keeps a row per product (quantity starts at 0) with its name. */
export async function trackProduct(trx: Knex.Transaction, productId: string, name: string): Promise<void> {
  await store.upsertName(trx, productId, name);
}
