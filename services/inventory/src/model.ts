// Inventory's stock item, as the API answers with it. Declared apart from domain/ and store.ts because
// both use it, and store.ts imports nothing from domain/.
import { z } from 'zod';

export const StockItem = z.object({
  productId: z.string().describe("The product id, as the catalog's events carry it"),
  name: z.string().describe("The product's name, from the catalog's latest ProductCreated/ProductUpdated"),
  quantity: z.number().int().min(0),
  updatedAt: z.iso.datetime(),
});
export type StockItem = z.infer<typeof StockItem>;

/** A manual change of stock as the ledger (stock_adjustments) records it. */
export const StockAdjustment = z.object({
  id: z.uuid(),
  delta: z.number().int().describe('The change of quantity: positive for a restock, negative for a write-off'),
  reason: z.string().describe("The operator's reason"),
  quantityAfter: z.number().int().min(0).describe('The quantity the adjustment left'),
  version: z.number().int().min(1).describe("The stock item's version after the adjustment, the one its ProductQuantityUpdated carries"),
  createdAt: z.iso.datetime(),
});
export type StockAdjustment = z.infer<typeof StockAdjustment>;

/** The answer to an adjustment: the stock item as it is now, and the adjustment (for a replayed Idempotency-Key, the first one). */
export const AdjustedStock = StockItem.extend({ adjustment: StockAdjustment });
export type AdjustedStock = z.infer<typeof AdjustedStock>;
