import { stale } from '@qtshop/shared/events';
import { productEvent, quantityUpdate } from './products';

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

describe('the event a product change emits', () => {
  it('given a product at version 2, then the payload carries its catalog fields and that version, not its quantity or times', () => {
    const catalogFields = { name: 'Lamp', description: 'warm', type: 'home', brand: 'Lumo', pictureUrl: '/l.png', price: 1999 };
    const product = { id: 'p1', ...catalogFields, quantity: 7, createdAt: 't0', updatedAt: 't1' };
    expect(productEvent({ product, version: 2 })).toEqual({ productId: 'p1', ...catalogFields, version: 2 });
  });
});
