import { stale } from '@qtshop/shared/events';
import { productNameUpdate } from './stock';

describe("inventory's rule for ProductCreated/ProductUpdated (held: the product version the name came from)", () => {
  it('creates the stock item for a product first seen', () => {
    expect(productNameUpdate(undefined, { version: 1 })).toBe('create');
  });
  it('renames on a newer product version', () => {
    expect(productNameUpdate(1, { version: 2 })).toBe('rename');
  });
  it('skips an older or equal version as stale', () => {
    expect(productNameUpdate(3, { version: 2 })).toEqual(stale(3, 2));
    expect(productNameUpdate(3, { version: 3 })).toEqual(stale(3, 3));
    expect(productNameUpdate(3, { version: 1 })).toEqual(stale(3, 1)); // a late ProductCreated
  });
  it('renames after a gap (3, then 5)', () => {
    expect(productNameUpdate(3, { version: 5 })).toBe('rename');
  });
});
