import { stale } from '@qtshop/shared/events';
import { outcomeUpdate, placedUpdate } from './projection';

describe("order-query's rule for OrderConfirmed/OrderRejected (the status moves only forward by version)", () => {
  it('creates the row when the outcome comes first', () => {
    expect(outcomeUpdate(undefined, { version: 2 })).toBe('create');
  });
  it('applies a newer version', () => {
    expect(outcomeUpdate({ version: 1, placed: true }, { version: 2 })).toBe('apply');
  });
  it('skips an older or equal version as stale', () => {
    expect(outcomeUpdate({ version: 3, placed: true }, { version: 2 })).toEqual(stale(3, 2));
    expect(outcomeUpdate({ version: 2, placed: true }, { version: 2 })).toEqual(stale(2, 2));
  });
  it('applies after a gap (1, then 3)', () => {
    expect(outcomeUpdate({ version: 1, placed: true }, { version: 3 })).toBe('apply');
  });
});

describe("order-query's rule for OrderPlaced", () => {
  it('creates the row for an order first seen', () => {
    expect(placedUpdate(undefined, { version: 1 })).toBe('create');
  });
  it('applies over a row at an older version', () => {
    expect(placedUpdate({ version: 0, placed: false }, { version: 1 })).toBe('apply');
  });
  it('skips as stale when the row is at this version or newer and has the order data', () => {
    expect(placedUpdate({ version: 1, placed: true }, { version: 1 })).toEqual(stale(1, 1));
    expect(placedUpdate({ version: 2, placed: true }, { version: 1 })).toEqual(stale(2, 1));
  });
  it('only fills in the order data when its outcome arrived first', () => {
    expect(placedUpdate({ version: 2, placed: false }, { version: 1 })).toBe('fill');
  });
});
