// Route contracts (docs/concepts.md "Contracts"): each route is declared once, with the zod schemas of its path
// parameters, query, headers, body and responses. contractRouter serves the routes, parsing every input
// with its schema (a 400 naming the field otherwise) before the handler sees it; openapi.ts turns the same
// declarations into the service's OpenAPI document. A handler gets typed, parsed input and sets
// ctx.status / ctx.body as before.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Metric } from 'prom-client';
import { requireBearer } from './bearer';
import { parseInput } from './errors';
import type { ShopperAccess } from './shoppers/access';
import { AuthUnavailable, type Identity } from './shoppers/auth';

/** Error statuses a route may declare; each is answered with the shared error body (ErrorBody). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429 | 500 | 503;

export interface ResponseContract {
  description: string;
  /** The body's schema; none for a response without a body (204). */
  body?: z.ZodType;
  /** application/json unless said otherwise. */
  contentType?: string;
  /** Response headers the route sets, with what they carry. */
  headers?: Record<string, string>;
}

export interface RouteContract {
  method: 'get' | 'post' | 'put' | 'delete';
  /** The Koa path, e.g. '/products/:id'. */
  path: string;
  summary: string;
  description?: string;
  /** The route needs Authorization: Bearer <ADMIN_TOKEN> (a 401 otherwise). */
  admin?: boolean;
  /**
   * The route is a shopper's: it needs a shopper's JWT or the admin token (shoppers/auth.ts; a 401 otherwise, a
   * 503 auth_unavailable while the identity provider's keys cannot be fetched), and the handler gets the
   * caller's identity to check what they own (a 403 for another customer's).
   */
  shopper?: boolean;
  /** A shopper's write, rate limited per customer (shoppers/rate-limit.ts; a 429 with Retry-After over the limit). */
  rateLimited?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers by their canonical name (e.g. 'Idempotency-Key'); an empty header counts as absent. */
  headers?: z.ZodObject;
  body?: z.ZodType;
  responses: Partial<Record<number, ResponseContract>>;
  /** Error statuses besides those every route of its kind has (400 for input, 401 for admin, 413/415 for a body, 500). */
  errors?: ErrorStatus[];
  /** What the route adds to an error status's shared description (order-command's 503 `overloaded`); the status is then documented too. */
  errorNotes?: Partial<Record<ErrorStatus, string>>;
}

export type Routes = Record<string, RouteContract>;
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
export interface RouteInput<C extends RouteContract> {
  params: Parsed<C['params']>;
  query: Parsed<C['query']>;
  headers: Parsed<C['headers']>;
  body: Parsed<C['body']>;
  /** The caller, on shopper routes. */
  identity: C['shopper'] extends true ? Identity : undefined;
}
export type RouteHandlers<R extends Routes> = { [K in keyof R]: (input: RouteInput<R[K]>, ctx: Context) => Promise<void> | void };

/** Declares routes; the identity, so that each route keeps its own schema types. */
export const routes = <R extends Routes>(r: R): R => r;

/** A router serving `routes` with `handlers`, and the contracts it serves by name (for the OpenAPI document). */
export interface ContractRouter {
  router: Router;
  routes: Routes;
  /** Metrics of the router's own (the rate limiter's, the JWKS's), registered with the service's registry. */
  metrics?: Metric[];
  /** Readiness checks of the router's own (`jwks`: the identity provider's keys can be fetched), run by /ready. */
  readiness?: Record<string, () => Promise<unknown>>;
}

function parseRequest(c: RouteContract, ctx: Context): RouteInput<RouteContract> {
  const identity = ctx.state.identity as Identity | undefined;
  const headers = c.headers && Object.fromEntries(Object.keys(c.headers.shape).map((name) => [name, ctx.get(name) || undefined]));
  return {
    params: c.params && parseInput(c.params, ctx.params, 'params'),
    query: c.query && parseInput(c.query, ctx.query, 'query'),
    headers: c.headers && parseInput(c.headers, headers, 'headers'),
    body: c.body && parseInput(c.body, ctx.request.body, 'body'),
    identity,
  } as RouteInput<RouteContract>;
}

/**
 * A shopper route's guard: identifies the caller, takes the rate limit's token (for the customer, or for
 * the client address when the token is missing or bad, so that failed attempts are limited too), then
 * lets only an identified caller through. The admin token is not limited. A refusal says how to
 * authenticate (WWW-Authenticate), or, while the identity provider's keys cannot be fetched, when to retry.
 */
function shopperGuard(c: RouteContract, access: ShopperAccess) {
  const route = `${c.method.toUpperCase()} ${c.path}`;
  return async (ctx: Context, next: () => Promise<unknown>) => {
    let identity: Identity | undefined;
    let failure: unknown;
    try {
      identity = await access.authenticate(ctx.get('authorization'));
    } catch (err) {
      failure = err;
      if (err instanceof AuthUnavailable) ctx.set('Retry-After', String(err.retryAfterS));
      else ctx.set('WWW-Authenticate', 'Bearer');
    }
    if (c.rateLimited && access.limiter && !(identity?.admin && !identity.customerId)) {
      access.limiter.check(identity?.customerId ? `customer:${identity.customerId}` : `address:${ctx.ip}`, route, (h, v) => ctx.set(h, v));
    }
    if (failure !== undefined) throw failure;
    ctx.state.identity = identity;
    await next();
  };
}

export function contractRouter<R extends Routes>(
  declared: R,
  handlers: RouteHandlers<R>,
  opts: { adminToken?: string; shoppers?: ShopperAccess } = {},
): ContractRouter {
  const router = new Router();
  for (const [name, c] of Object.entries(declared)) {
    const handler = handlers[name as keyof R] as (input: RouteInput<RouteContract>, ctx: Context) => Promise<void> | void;
    const serve = async (ctx: Context) => handler(parseRequest(c, ctx), ctx);
    if (c.admin) {
      if (opts.adminToken === undefined) throw new Error(`route ${c.method.toUpperCase()} ${c.path} needs the admin token`);
      router[c.method](c.path, requireBearer(opts.adminToken), serve);
    } else if (c.shopper) {
      if (!opts.shoppers) throw new Error(`route ${c.method.toUpperCase()} ${c.path} needs shopper access (an authenticator)`);
      router[c.method](c.path, shopperGuard(c, opts.shoppers), serve);
    } else router[c.method](c.path, serve);
  }
  const { limiter, keys } = opts.shoppers ?? {};
  const metrics = [...(limiter ? [limiter.metric] : []), ...(keys ? [keys.metric] : [])];
  return { router, routes: declared, ...(metrics.length ? { metrics } : {}), ...(keys ? { readiness: { jwks: () => keys.ready() } } : {}) };
}

/** The query of a paged list: ?limit (1-200, default 50) &offset (default 0). */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Most items to return'),
  offset: z.coerce.number().int().min(0).default(0).describe('Items to skip'),
});

/** A page of `item`s as list routes answer: the items, how many there are in all, and the page asked for. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int().min(0).describe('Items in all, across pages'), limit: z.number().int(), offset: z.number().int() });

/** A UUID path parameter (an aggregate id). */
export const uuidParam = () => z.uuid({ message: 'must be a UUID' });
