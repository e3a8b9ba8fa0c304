import { AppError } from '@qtshop/shared/http';
import { BasketBusy, UnknownProducts } from './domain/basket';
import { rethrowForHttp } from './http-errors';

describe("the basket's domain errors at the HTTP edge", () => {
  it('answers unknown products with 404 not_found, a field per unknown line', () => {
    const thrown = (() => {
      try {
        return rethrowForHttp(new UnknownProducts([{ index: 1, productId: 'x' }]));
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'product x not found',
      fields: [{ path: 'items.1.productId', message: 'unknown product x' }],
    });
  });
  it('answers a basket that kept changing under a PUT with 409 conflict', () => {
    expect(() => rethrowForHttp(new BasketBusy('b1'))).toThrow(
      expect.objectContaining({ status: 409, code: 'conflict', message: expect.stringContaining('basket b1') }),
    );
  });
  it('rethrows any other error as it is (a 500)', () => {
    const err = new Error('boom');
    expect(() => rethrowForHttp(err)).toThrow(err);
  });
});
