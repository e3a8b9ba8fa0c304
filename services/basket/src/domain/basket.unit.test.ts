import { stale } from '@qtshop/shared';
import { productOutcome } from './basket';

// The basket applies a product event with conditional updates (store.ts): the cache document and each
// basket line are written only where they hold an older version. productOutcome is the rule's verdict
// from what those updates changed.
describe("basket's rule for ProductCreated/ProductUpdated", () => {
  it('is applied when the cache held an older version (newer event, or a gap)', () => {
    expect(productOutcome('applied', 0)).toBeUndefined();
    expect(productOutcome('applied', 2)).toBeUndefined();
  });
  it('is stale when the cache and every line already hold this version or a newer one', () => {
    expect(productOutcome(stale(3, 2), 0)).toEqual(stale(3, 2));
    expect(productOutcome(stale(3, 3), 0)).toEqual(stale(3, 3));
  });
  it('is applied when the cache was already at the version but lines were older (a crash between the two writes, then redelivery)', () => {
    expect(productOutcome(stale(2, 2), 1)).toBeUndefined();
  });
});
