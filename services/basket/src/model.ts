// The basket's data: baskets as the API answers with them, lines as stored, and the product cache.
// Declared apart from domain/ and store.ts because both use them, and store.ts imports nothing from domain/.
import { z } from 'zod';

export const BasketLine = z.object({
  productId: z.string(),
  name: z.string().describe("The product's name, from the product cache"),
  price: z.number().int().min(0).describe('Unit price in minor units, from the product cache'),
  quantity: z.number().int().min(1),
});
export type BasketLine = z.infer<typeof BasketLine>;

export const Basket = z.object({
  basketId: z.string(),
  items: z.array(BasketLine),
  total: z.number().int().min(0).describe('Sum of price × quantity, minor units'),
  updatedAt: z.iso.datetime(),
});
export type Basket = z.infer<typeof Basket>;

/** A basket line as stored: with the product version its name and price came from. */
export interface PricedLine extends BasketLine {
  productVersion: number;
}

/** The product cache: what ProductCreated/ProductUpdated last said about a product, and that event's product version. */
export interface CachedProduct {
  productId: string;
  name: string;
  description: string;
  type: string;
  brand: string;
  pictureUrl: string;
  price: number;
  /** 0 for a document cached before events carried versions. */
  version: number;
}
