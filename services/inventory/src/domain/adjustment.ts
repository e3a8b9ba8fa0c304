// Restocking and write-offs: a change of stock relative to what it is (POST /inventory/:productId/adjustments),
// so that a restock never erases the reservations made since the operator last looked. Taken under the row
// lock reservations take (store.lockStock), so the two are serialised and neither is lost; recorded in the
// ledger (stock_adjustments) with the ProductQuantityUpdated it causes, in one transaction.
//
// An Idempotency-Key makes a retry safe: the key is looked up under the same row lock, so a retry (even a
// concurrent one) finds the first adjustment once committed and answers with it instead of applying it
// again. A refused adjustment records nothing, so retrying its key decides afresh.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import type { StockAdjustment } from '../model';
import * as store from '../store';

/** The most units a stock item can hold (PUT's bound too), and so the largest adjustment. */
export const MAX_QUANTITY = 1_000_000_000;

export const AdjustStockBody = z.strictObject({
  delta: z
    .number()
    .int()
    .min(-MAX_QUANTITY)
    .max(MAX_QUANTITY)
    .refine((d) => d !== 0, 'must not be 0')
    .describe('The change of quantity, non-zero: positive to restock, negative to write off'),
  reason: z.string().trim().min(1).max(200).describe('Why (1-200 characters), kept in the ledger'),
});
export type AdjustStockBody = z.infer<typeof AdjustStockBody>;

/** Why an adjustment is refused. */
export type AdjustRefusal = 'insufficient_stock' | 'stock_limit_exceeded' | 'idempotency_key_reused';

/** The quantity an adjustment of `delta` leaves of `current`, or why it cannot be made. Pure; unit-tested. */
export function adjustStock(
  current: number,
  delta: number,
  productId = 'the product',
): { outcome: 'adjusted'; quantity: number } | { outcome: 'refused'; refusal: AdjustRefusal; message: string } {
  const quantity = current + delta;
  if (quantity < 0) {
    const message = `insufficient stock for ${productId}: the stock is ${current}, a delta of ${delta} would leave ${quantity}`;
    return { outcome: 'refused', refusal: 'insufficient_stock', message };
  }
  if (quantity > MAX_QUANTITY) {
    const message = `stock limit exceeded for ${productId}: the stock is ${current}, a delta of ${delta} would leave ${quantity}, over ${MAX_QUANTITY}`;
    return { outcome: 'refused', refusal: 'stock_limit_exceeded', message };
  }
  return { outcome: 'adjusted', quantity };
}

/**
 * What a request with an Idempotency-Key does, given the adjustment made earlier with the same key for the
 * same product (none: the key is new): apply it, answer with the earlier one (the same request again), or
 * refuse (another request under a used key). Pure; unit-tested.
 */
export function keyDecision(earlier: Pick<StockAdjustment, 'delta' | 'reason'> | undefined, body: AdjustStockBody): 'apply' | 'replay' | 'reused' {
  if (!earlier) return 'apply';
  return earlier.delta === body.delta && earlier.reason === body.reason ? 'replay' : 'reused';
}

export type AdjustResult =
  | { outcome: 'adjusted' | 'replayed'; current: store.VersionedItem; adjustment: StockAdjustment }
  | { outcome: 'not_found' }
  | { outcome: 'refused'; refusal: AdjustRefusal; message: string };

/** Adjusts the stock of a product by `body.delta`, emitting ProductQuantityUpdated and recording the adjustment. */
export async function adjustStockOf(
  deps: { db: Knex; outbox: OutboxWriter; newId?: () => string },
  productId: string,
  body: AdjustStockBody,
  idempotencyKey?: string,
): Promise<AdjustResult> {
  return inTransaction(deps.db, async (trx): Promise<AdjustResult> => {
    const current = (await store.lockStock(trx, [productId])).get(productId);
    if (current === undefined) return { outcome: 'not_found' };
    if (idempotencyKey !== undefined) {
      const earlier = await store.findAdjustmentByKey(trx, productId, idempotencyKey);
      const decision = keyDecision(earlier, body);
      if (decision === 'replay') return { outcome: 'replayed', current: (await store.findVersioned(trx, productId))!, adjustment: earlier! };
      if (decision === 'reused') {
        const message = `this Idempotency-Key was used for another adjustment of ${productId} (delta ${earlier!.delta}, reason "${earlier!.reason}")`;
        return { outcome: 'refused', refusal: 'idempotency_key_reused', message };
      }
    }
    const adjusted = adjustStock(current, body.delta, productId);
    if (adjusted.outcome === 'refused') return adjusted;
    const changed = (await store.setQuantity(trx, productId, adjusted.quantity))!; // locked above: the row exists
    await deps.outbox.append(trx, {
      type: 'ProductQuantityUpdated',
      aggregateId: productId,
      payload: { productId, quantity: adjusted.quantity, version: changed.version },
    });
    const adjustment = await store.insertAdjustment(trx, {
      id: (deps.newId ?? randomUUID)(),
      productId,
      kind: 'adjustment',
      delta: body.delta,
      reason: body.reason,
      quantityAfter: adjusted.quantity,
      version: changed.version,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    return { outcome: 'adjusted', current: changed, adjustment };
  });
}
