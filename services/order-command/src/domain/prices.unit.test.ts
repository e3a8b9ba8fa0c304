import { stale } from '@qtshop/shared/events';
import { checkPrices, priceUpdate } from './prices';
import { OrderRefused } from './refusals';

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

describe('PlaceOrder, its lines checked against the cached prices', () => {
  const prices = new Map([
    ['p1', 250],
    ['p2', 100],
  ]);
  it('given every product cached, when each line carries its current price, then nothing is refused', () => {
    expect(
      checkPrices(
        [
          { productId: 'p1', price: 250 },
          { productId: 'p2', price: 100 },
        ],
        prices,
      ),
    ).toBeUndefined();
  });
  it('given a product not cached, when a line names it, then unknown_product names every such product', () => {
    const refused = checkPrices(
      [
        { productId: 'p1', price: 1 },
        { productId: 'x', price: 1 },
        { productId: 'y', price: 1 },
      ],
      prices,
    );
    expect(refused).toBeInstanceOf(OrderRefused);
    expect(refused).toMatchObject({ code: 'unknown_product', message: 'unknown product(s): x, y' });
  });
  it('given every product cached, when lines carry other prices, then price_changed says each current price', () => {
    expect(
      checkPrices(
        [
          { productId: 'p1', price: 200 },
          { productId: 'p2', price: 100 },
          { productId: 'p2', price: 90 },
        ],
        prices,
      ),
    ).toMatchObject({
      code: 'price_changed',
      message: 'p1: price is 250, not 200; p2: price is 100, not 90',
    });
  });
});
