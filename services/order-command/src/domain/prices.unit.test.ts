import { stale } from '@qtshop/shared';
import { priceUpdate } from './prices';

describe("order-command's rule for ProductCreated/ProductUpdated (held: the product version the cached price came from)", () => {
  it('caches the price of a product first seen', () => {
    expect(priceUpdate(undefined, { version: 1 })).toBe('insert');
  });
  it('updates on a newer product version', () => {
    expect(priceUpdate(2, { version: 3 })).toBe('update');
    expect(priceUpdate(0, { version: 1 })).toBe('update'); // a row cached before versions
  });
  it('skips an older or equal version as stale', () => {
    expect(priceUpdate(3, { version: 2 })).toEqual(stale(3, 2));
    expect(priceUpdate(3, { version: 3 })).toEqual(stale(3, 3));
  });
  it('updates after a gap (3, then 5)', () => {
    expect(priceUpdate(3, { version: 5 })).toBe('update');
  });
});
