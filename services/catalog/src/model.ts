// The catalog's product: what a client may send and what the service answers with. Declared apart from
// domain/ and store.ts because both use it, and store.ts imports nothing from domain/.
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

/** What a client may send for a product; the price is an integer in minor units (cents). */
export const ProductFields = z.strictObject({
  name: text(200),
  description: z.string().max(5000),
  type: text(100),
  brand: text(100),
  pictureUrl: z.string().max(2000),
  price: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type ProductFields = z.infer<typeof ProductFields>;

/** A product as the API answers with it. */
export const Product = ProductFields.extend({
  id: z.uuid(),
  quantity: z.number().int().min(0).describe('Units in stock, as inventory last reported (ProductQuantityUpdated)'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Product = z.infer<typeof Product>;
