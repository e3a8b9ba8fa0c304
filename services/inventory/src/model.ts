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
