// Inventory's stock item, as the API answers with it. Declared apart from domain/ and store.ts because
// both use it, and store.ts imports nothing from domain/.
export interface StockItem {
  productId: string;
  name: string;
  quantity: number;
  updatedAt: string;
}
