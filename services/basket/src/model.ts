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
  revision: z
    .number()
    .int()
    .min(0)
    .describe(
      "The basket's revision: 1 when created, +1 whenever its lines change (the shopper's PUT, or the lines of an order taken out); a product's new name or price does not change it. " +
        'Place the order with it (POST /orders basketRevision) so that only what you ordered leaves the basket. 0: last written before baskets had revisions.',
    ),
  updatedAt: z.iso.datetime(),
});
export type Basket = z.infer<typeof Basket>;

/** A basket line as stored: with the product version its name and price came from. */
export interface PricedLine extends BasketLine {
  productVersion: number;
}

/** A stored line with the basket revision at which the shopper last set it (its product and quantity); 0 before revisions. */
export interface RevisedLine extends PricedLine {
  revision: number;
}

/**
 * A basket as stored, for the use cases: its revision (0 before revisions) and whether it is deleted. A
 * deleted basket keeps its document, empty, so that its revision keeps growing when the shopper fills it
 * again: an order's revision can never name a later basket of the same id.
 */
export interface StoredBasket {
  basketId: string;
  revision: number;
  deleted: boolean;
  lines: RevisedLine[];
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
