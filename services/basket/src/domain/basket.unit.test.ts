import { stale } from '@qtshop/shared/events';
import type { CachedProduct } from '../model';
import { movedProducts, priceLines, productOutcome, reviseLines, UnknownProducts } from './basket';

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

const DETAILS = { description: '', type: 'home', brand: 'Lumo', pictureUrl: '' };
const cached = (productId: string, price: number, version: number): CachedProduct => ({ productId, name: `Name of ${productId}`, ...DETAILS, price, version });

describe("a PUT's lines, priced from the product cache", () => {
  const cache = new Map([
    ['p1', cached('p1', 250, 3)],
    ['p2', cached('p2', 100, 1)],
  ]);
  it('given every product cached, then each line takes its name, price and version from the cache, the quantity from the client', () => {
    expect(
      priceLines(
        [
          { productId: 'p2', quantity: 4 },
          { productId: 'p1', quantity: 1 },
        ],
        cache,
      ),
    ).toEqual({
      lines: [
        { productId: 'p2', name: 'Name of p2', price: 100, quantity: 4, productVersion: 1 },
        { productId: 'p1', name: 'Name of p1', price: 250, quantity: 1, productVersion: 3 },
      ],
    });
  });
  it('given products not cached, then it names every such line by its index, and prices none', () => {
    expect(
      priceLines(
        [
          { productId: 'x', quantity: 1 },
          { productId: 'p1', quantity: 1 },
          { productId: 'y', quantity: 2 },
        ],
        cache,
      ),
    ).toEqual({
      unknown: [
        { index: 0, productId: 'x' },
        { index: 2, productId: 'y' },
      ],
    });
  });
  it('given an empty basket, then there is nothing to price', () => {
    expect(priceLines([], cache)).toEqual({ lines: [] });
  });
  it('says which products are unknown, in the singular or the plural', () => {
    expect(new UnknownProducts([{ index: 0, productId: 'x' }]).message).toBe('product x not found');
    expect(
      new UnknownProducts([
        { index: 0, productId: 'x' },
        { index: 2, productId: 'y' },
      ]).message,
    ).toBe('products x, y not found');
  });
});

describe('after a PUT, the products that moved while it wrote', () => {
  it('given the cache re-read, then only products newer than the lines hold have moved', () => {
    const latest = new Map([
      ['p1', cached('p1', 260, 4)],
      ['p2', cached('p2', 100, 1)],
    ]);
    expect(
      movedProducts(
        latest,
        new Map([
          ['p1', 3],
          ['p2', 1],
        ]),
      ),
    ).toEqual([cached('p1', 260, 4)]);
    expect(
      movedProducts(
        latest,
        new Map([
          ['p1', 4],
          ['p2', 1],
        ]),
      ),
    ).toEqual([]);
  });
});

describe("a PUT's revision and line revisions", () => {
  const line = (productId: string, quantity: number, revision?: number) => ({
    productId,
    name: `Name of ${productId}`,
    price: 100,
    quantity,
    productVersion: 1,
    ...(revision === undefined ? {} : { revision }),
  });
  const stored = (revision: number, lines: ReturnType<typeof line>[], deleted = false) => ({
    basketId: 'c',
    revision,
    deleted,
    lines: lines.map((l) => ({ ...l, revision: l.revision ?? 0 })),
  });

  it('given no basket, when a PUT, then revision 1, every line at 1, and it is created', () => {
    expect(reviseLines(undefined, [line('p1', 2)])).toEqual({ revision: 1, lines: [line('p1', 2, 1)], created: true });
    expect(reviseLines(undefined, [])).toEqual({ revision: 1, lines: [], created: true });
  });
  it('given a basket at 3, when a PUT adds a product, then revision 4: the unchanged line keeps its revision, the new one takes 4', () => {
    const at3 = stored(3, [line('p1', 2, 1)]);
    expect(reviseLines(at3, [line('p1', 2), line('p2', 1)])).toEqual({ revision: 4, lines: [line('p1', 2, 1), line('p2', 1, 4)], created: false });
  });
  it('given a basket at 3, when a PUT changes a quantity, then that line takes the new revision', () => {
    expect(reviseLines(stored(3, [line('p1', 2, 1), line('p2', 1, 3)]), [line('p1', 5), line('p2', 1)]).lines).toEqual([line('p1', 5, 4), line('p2', 1, 3)]);
  });
  it('given a basket at 3, when a PUT states the same lines, then the revision stays 3 (a new name or price from the cache is no change)', () => {
    const at3 = stored(3, [line('p1', 2, 1), line('p2', 1, 3)]);
    expect(reviseLines(at3, [{ ...line('p1', 2), price: 999 }, line('p2', 1)])).toEqual({
      revision: 3,
      lines: [{ ...line('p1', 2, 1), price: 999 }, line('p2', 1, 3)],
      created: false,
    });
  });
  it('given a basket at 3, when a PUT reorders its lines, then the revision moves on but every line keeps its own', () => {
    expect(reviseLines(stored(3, [line('p1', 2, 1), line('p2', 1, 3)]), [line('p2', 1), line('p1', 2)])).toMatchObject({
      revision: 4,
      lines: [line('p2', 1, 3), line('p1', 2, 1)],
    });
  });
  it('given a product removed at 4 and added again at 5 with the same quantity, then the line is new (revision 5)', () => {
    const at4 = stored(4, [line('p2', 1, 4)]);
    expect(reviseLines(at4, [line('p1', 2), line('p2', 1)]).lines).toEqual([line('p1', 2, 5), line('p2', 1, 4)]);
  });
  it('given a deleted basket at 6, when a PUT, then revision 7 (never 1 again), every line new, and it is created', () => {
    expect(reviseLines(stored(6, [], true), [line('p1', 2)])).toEqual({ revision: 7, lines: [line('p1', 2, 7)], created: true });
  });
  it('given a basket from before revisions (0), when a PUT of the same lines, then it gets revision 1; its old lines keep 0', () => {
    expect(reviseLines(stored(0, [line('p1', 2)]), [line('p1', 2)])).toEqual({ revision: 1, lines: [line('p1', 2, 0)], created: false });
  });
});
