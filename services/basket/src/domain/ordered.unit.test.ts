import type { RevisedLine, StoredBasket } from '../model';
import { orderedLines } from './ordered';

// What OrderPlaced takes out of its basket, decided on the basket as read (ordered.ts). The consumer then
// writes it only if the basket is still at the revision read, and decides again otherwise.
const line = (productId: string, quantity: number, revision: number): RevisedLine => ({
  productId,
  name: productId,
  price: 100,
  quantity,
  productVersion: 1,
  revision,
});
const basket = (revision: number, lines: RevisedLine[], deleted = false): StoredBasket => ({ basketId: 'c', revision, deleted, lines });
const order = (items: Array<[string, number]>, basketRevision?: number) => ({
  items: items.map(([productId, quantity]) => ({ productId, quantity })),
  ...(basketRevision === undefined ? {} : { basketRevision }),
});

describe('OrderPlaced with the revision it was placed from', () => {
  it('given the basket still at that revision, then it is deleted whole (as before revisions), also lines the order left out', () => {
    expect(orderedLines(basket(2, [line('p1', 2, 1), line('p3', 1, 2)]), order([['p1', 2]], 2))).toEqual({ kind: 'delete' });
  });
  it('given a product added since, then only the ordered lines set at or before that revision leave', () => {
    expect(orderedLines(basket(3, [line('p1', 2, 1), line('p2', 1, 3)]), order([['p1', 2]], 2))).toEqual({ kind: 'remove', productIds: ['p1'] });
  });
  it('given an ordered line changed since (its quantity), then it stays', () => {
    expect(orderedLines(basket(3, [line('p1', 5, 3), line('p2', 1, 1)]), order([['p1', 2]], 2))).toEqual({ kind: 'none' });
  });
  it('given a line of a product the order does not hold, then it stays', () => {
    expect(orderedLines(basket(4, [line('p1', 2, 1), line('p3', 1, 1), line('p2', 1, 4)]), order([['p1', 2]], 2))).toEqual({
      kind: 'remove',
      productIds: ['p1'],
    });
  });
  it('given every line of the basket among those leaving, then it is deleted', () => {
    expect(
      orderedLines(
        basket(3, [line('p1', 2, 1), line('p2', 1, 2)]),
        order(
          [
            ['p1', 2],
            ['p2', 1],
          ],
          2,
        ),
      ),
    ).toEqual({ kind: 'delete' });
  });
  it('given the order already taken out (a redelivery after a crash), then nothing more leaves', () => {
    expect(orderedLines(basket(4, [line('p2', 1, 3)]), order([['p1', 2]], 2))).toEqual({ kind: 'none' });
    expect(orderedLines(basket(3, [], true), order([['p1', 2]], 2))).toEqual({ kind: 'none' });
  });
  it('given the basket deleted and filled again since, then its lines are all later than the order and stay', () => {
    expect(orderedLines(basket(5, [line('p1', 2, 5)]), order([['p1', 2]], 2))).toEqual({ kind: 'none' });
  });
  it('given an empty basket at a later revision (the shopper emptied it), then it stays', () => {
    expect(orderedLines(basket(3, []), order([['p1', 2]], 2))).toEqual({ kind: 'none' });
  });
  it('given a revision the basket never reached, then nothing leaves (the order names a state this basket never had)', () => {
    expect(orderedLines(basket(2, [line('p1', 2, 1)]), order([['p1', 2]], 7))).toEqual({ kind: 'none' });
  });
  it('given no basket, then nothing', () => {
    expect(orderedLines(undefined, order([['p1', 2]], 1))).toEqual({ kind: 'none' });
  });
});

describe('OrderPlaced without a revision (an older client, or an event from before revisions)', () => {
  it('given the basket holding exactly the ordered lines, then it is deleted', () => {
    expect(
      orderedLines(
        basket(2, [line('p1', 2, 1), line('p2', 1, 2)]),
        order([
          ['p1', 2],
          ['p2', 1],
        ]),
      ),
    ).toEqual({ kind: 'delete' });
  });
  it('given a product added since, then only the lines equal to an ordered line (product and quantity) leave', () => {
    expect(orderedLines(basket(3, [line('p1', 2, 1), line('p2', 1, 3)]), order([['p1', 2]]))).toEqual({ kind: 'remove', productIds: ['p1'] });
  });
  it('given an ordered product at another quantity, then its line stays', () => {
    expect(orderedLines(basket(3, [line('p1', 5, 3)]), order([['p1', 2]]))).toEqual({ kind: 'none' });
  });
  it('given a basket from before revisions (0), then the same rule', () => {
    expect(orderedLines(basket(0, [line('p1', 2, 0), line('p2', 1, 0)]), order([['p1', 2]]))).toEqual({ kind: 'remove', productIds: ['p1'] });
  });
  it('given a deleted basket, or none, then nothing', () => {
    expect(orderedLines(basket(3, [], true), order([['p1', 2]]))).toEqual({ kind: 'none' });
    expect(orderedLines(undefined, order([['p1', 2]]))).toEqual({ kind: 'none' });
  });
});
