// The basket's data: baskets as the API answers with them, lines as stored, and the product cache.
// Declared apart from domain/ and store.ts because both use them, and store.ts imports nothing from domain/.
export interface BasketLine {
  productId: string;
  name: string;
  /** Unit price in minor units, from the product cache. */
  price: number;
  quantity: number;
}

export interface Basket {
  basketId: string;
  items: BasketLine[];
  /** Sum of price × quantity, minor units. */
  total: number;
  updatedAt: string;
}

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
