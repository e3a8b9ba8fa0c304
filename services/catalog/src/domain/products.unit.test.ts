import { stale } from '@qtshop/shared';
import { quantityUpdate } from './products';

describe("catalog's rule for ProductQuantityUpdated (held: the stock version the quantity came from)", () => {
  it('applies a newer stock version', () => {
    expect(quantityUpdate(2, { version: 3 })).toBe('apply');
  });
  it('applies the first versioned event to a row that has none yet (0)', () => {
    expect(quantityUpdate(0, { version: 1 })).toBe('apply');
  });
  it('skips an older or equal version as stale, saying both versions', () => {
    expect(quantityUpdate(3, { version: 2 })).toEqual(stale(3, 2));
    expect(quantityUpdate(3, { version: 3 })).toEqual(stale(3, 3));
  });
  it('applies after a gap (3, then 5)', () => {
    expect(quantityUpdate(3, { version: 5 })).toBe('apply');
  });
  it('reports a product the catalog does not have', () => {
    expect(quantityUpdate(undefined, { version: 2 })).toBe('unknown_product');
  });
});
