import { reservationProblems } from './reservation';

describe('reservationProblems', () => {
  it('names every line that cannot be reserved, and none when all can', () => {
    const stock = new Map([
      ['a', 2],
      ['b', 5],
    ]);
    expect(reservationProblems(new Map([['a', 2], ['b', 1]]), stock)).toEqual([]);
    expect(reservationProblems(new Map([['a', 3], ['c', 1]]), stock)).toEqual(['insufficient stock for a: requested 3, available 2', 'unknown product c']);
  });
});
