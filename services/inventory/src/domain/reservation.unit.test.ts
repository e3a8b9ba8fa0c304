import { decideReservation, reservationProblems, wantedOf } from './reservation';

describe('reservationProblems', () => {
  it('names every line that cannot be reserved, and none when all can', () => {
    const stock = new Map([
      ['a', 2],
      ['b', 5],
    ]);
    expect(
      reservationProblems(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
        stock,
      ),
    ).toEqual([]);
    expect(
      reservationProblems(
        new Map([
          ['a', 3],
          ['c', 1],
        ]),
        stock,
      ),
    ).toEqual(['insufficient stock for a: requested 3, available 2', 'unknown product c']);
  });
});

describe("inventory's answer to OrderPlaced: every line reserved, or none", () => {
  const stock = new Map([
    ['a', 2],
    ['b', 5],
  ]);
  it('given an order naming a product on two lines, then it wants their sum, in the order the lines name products', () => {
    const lines = [
      { productId: 'b', quantity: 1 },
      { productId: 'a', quantity: 1 },
      { productId: 'b', quantity: 2 },
    ];
    expect([...wantedOf(lines)]).toEqual([
      ['b', 3],
      ['a', 1],
    ]);
  });
  it('given enough stock of every product, when the order is decided, then it is reserved with what each product is left with', () => {
    expect(
      decideReservation(
        new Map([
          ['b', 5],
          ['a', 1],
        ]),
        stock,
      ),
    ).toEqual({
      outcome: 'reserved',
      left: [
        { productId: 'b', quantity: 0 },
        { productId: 'a', quantity: 1 },
      ],
    });
  });
  it('given one line short of stock, when the order is decided, then it is rejected whole, naming the line', () => {
    expect(
      decideReservation(
        new Map([
          ['a', 3],
          ['b', 1],
        ]),
        stock,
      ),
    ).toEqual({ outcome: 'rejected', reason: 'insufficient stock for a: requested 3, available 2' });
  });
  it('given a product inventory does not have, when the order is decided, then it is rejected, every problem in the reason', () => {
    expect(
      decideReservation(
        new Map([
          ['x', 1],
          ['a', 9],
        ]),
        stock,
      ),
    ).toEqual({
      outcome: 'rejected',
      reason: 'unknown product x; insufficient stock for a: requested 9, available 2',
    });
  });
});
