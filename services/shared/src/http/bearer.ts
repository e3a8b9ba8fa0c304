// The operator's bearer token (ADMIN_TOKEN) on admin routes, compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { AppError } from './errors';

/** Whether `given` is `token`, compared in constant time (the admin token). */
export function isToken(given: string, token: string): boolean {
  const [a, b] = [Buffer.from(given), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Requires `Authorization: Bearer <token>`; 401 otherwise. */
export function requireBearer(token: string): Middleware {
  return async (ctx: Context, next: Next) => {
    const m = /^Bearer (.+)$/i.exec(ctx.get('authorization'));
    if (!m || !isToken(m[1]!, token)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new AppError(401, 'unauthorized', m ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    await next();
  };
}
