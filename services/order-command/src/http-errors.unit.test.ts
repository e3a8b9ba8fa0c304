import { AppError } from '@qtshop/shared/http';
import { OrderRuleViolation } from './domain/aggregate';
import { OrderRefused } from './domain/refusals';
import { toAppError } from './http-errors';
import { VersionConflict } from './store';

describe("order-command's domain errors at the HTTP edge", () => {
  it.each([
    [new OrderRefused('unknown_product', 'm'), 404, 'product_not_found'],
    [new OrderRefused('price_changed', 'm'), 409, 'price_changed'],
    [new OrderRefused('idempotency_key_reused', 'm'), 422, 'idempotency_key_reused'],
    [new OrderRefused('idempotency_key_in_use', 'm'), 409, 'conflict'],
    [new OrderRuleViolation('order_exists', 'm'), 409, 'order_exists'],
    [new VersionConflict('m'), 409, 'conflict'],
  ])('answers %p with %i %s and the same message', (err, status, code) => {
    expect(toAppError(err)).toEqual(new AppError(status, code, 'm'));
    expect(toAppError(err)).toMatchObject({ status, code, message: 'm' });
  });
  it('leaves any other error as it is (a 500)', () => {
    const err = new Error('boom');
    expect(toAppError(err)).toBe(err);
  });
});
