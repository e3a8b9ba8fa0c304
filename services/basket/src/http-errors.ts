// The basket's domain errors as HTTP: the one place that knows their status and code.
import { AppError } from '@qtshop/shared/http';
import { BasketBusy, UnknownProducts } from './domain/basket';

/** Rethrows a domain error as the AppError it answers with, anything else as it is; for a use case's `.catch`. */
export function rethrowForHttp(err: unknown): never {
  if (err instanceof UnknownProducts) {
    throw new AppError(
      404,
      'not_found',
      err.message,
      err.lines.map((u) => ({ path: `items.${u.index}.productId`, message: `unknown product ${u.productId}` })),
    );
  }
  if (err instanceof BasketBusy) throw AppError.conflict(err.message);
  throw err;
}
