// Order-command's domain errors as HTTP: the one place that knows their status and code.
import { AppError } from '@qtshop/shared/http';
import { OrderRuleViolation } from './domain/aggregate';
import { OrderRefused, type RefusalCode } from './domain/refusals';
import { VersionConflict } from './store';

const REFUSALS: Record<RefusalCode, readonly [status: number, code: string]> = {
  unknown_product: [404, 'product_not_found'],
  price_changed: [409, 'price_changed'],
  idempotency_key_reused: [422, 'idempotency_key_reused'],
  idempotency_key_in_use: [409, 'conflict'],
};

/** The AppError a domain error answers with; anything else is returned as it is (a 500 at the error middleware). */
export function toAppError(err: unknown): unknown {
  if (err instanceof OrderRefused) return new AppError(...REFUSALS[err.code], err.message);
  if (err instanceof OrderRuleViolation) return new AppError(409, err.code, err.message);
  // The stream stayed contended through every append attempt.
  if (err instanceof VersionConflict) return AppError.conflict(err.message);
  return err;
}

/** `useCase` as the HTTP edge calls it: a domain error rejects as its AppError. */
export const overHttp =
  <A extends unknown[], R>(useCase: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    try {
      return await useCase(...args);
    } catch (err) {
      throw toAppError(err);
    }
  };
