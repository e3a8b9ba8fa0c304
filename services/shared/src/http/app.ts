// The HTTP app every service runs (Koa), the one module that puts the HTTP pieces together: the error
// middleware that turns AppError (errors.ts) into a JSON body, JSON body parsing with a size limit, a
// server span and a duration metric per request, and the routes: the service's own (contract.ts) and,
// from ops.ts, /health, /ready, /metrics and /openapi.json. And how a server stops: the drain a signal
// begins, then closeServer.
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { bodyParser } from '@koa/bodyparser';
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import Koa, { type Context, type Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ContractRouter, Routes } from './contract';
import { AppError, type ErrorBody } from './errors';
import { EventTooLarge } from '../outbox/errors';
import type { Logger } from '../platform/logging';
import { OPS_ROUTES, opsRouter, serviceOpenApi } from './ops';
import { activeTracer, extractContext, withTracer } from '../observability/tracing';

/** How long a client is told to wait after a 503 `unavailable` (a database failing over comes back within seconds). */
export const UNAVAILABLE_RETRY_AFTER_S = 1;

function errorMiddleware(log: Logger, unavailable: (err: unknown) => boolean): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; type?: string; message?: string };
      if (err instanceof AppError) {
        ctx.status = err.status;
        ctx.body = { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } } satisfies ErrorBody;
      } else if (err instanceof EventTooLarge) {
        ctx.status = 413;
        ctx.body = { error: { code: 'event_too_large', message: err.message } } satisfies ErrorBody;
      } else if (e.status === 413 || e.type === 'entity.too.large') {
        ctx.status = 413;
        ctx.body = { error: { code: 'payload_too_large', message: 'request body is larger than the limit' } } satisfies ErrorBody;
      } else if (e.status === 415 || e.type === 'unsupported') {
        ctx.status = 415;
        ctx.body = { error: { code: 'unsupported_media_type', message: 'request body must be application/json' } } satisfies ErrorBody;
      } else if (err instanceof SyntaxError || (e.status === 400 && e.expose)) {
        // body-parser: malformed JSON, wrong charset
        ctx.status = 400;
        ctx.body = { error: { code: 'invalid_json', message: `request body is not valid JSON: ${e.message ?? ''}`.trim() } } satisfies ErrorBody;
      } else if (unavailable(err)) {
        // The database (or the network to it) is down or failing over: the request changed nothing it kept,
        // and the same request may succeed in a moment.
        log.warn({ err, method: ctx.method, path: ctx.path }, 'request failed: a store is unavailable');
        ctx.status = 503;
        ctx.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
        ctx.body = {
          error: { code: 'unavailable', message: 'a store this request needs is unavailable (restarting or failing over); retry shortly' },
        } satisfies ErrorBody;
      } else {
        log.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { error: { code: 'internal', message: 'internal error' } } satisfies ErrorBody;
      }
    }
  };
}

const UNTRACED = new Set<string>(Object.values(OPS_ROUTES).map((r) => r.path));
const matchedRoute = (ctx: Context) => (ctx as Context & { _matchedRoute?: string })._matchedRoute;

/**
 * A server span per request (`POST /orders`), continuing the caller's trace from its traceparent header or
 * starting one; everything the request does (its transaction, its outbox writes, its log lines) happens
 * inside it. Probes and scrapes (/health, /ready, /metrics, /openapi.json) are not traced.
 */
function traceRequests(tracer: Tracer): Middleware {
  return async (ctx, next) => {
    if (UNTRACED.has(ctx.path)) return next();
    const parent = extractContext(ctx.headers);
    const attributes = { [ATTR_HTTP_REQUEST_METHOD]: ctx.method, [ATTR_URL_PATH]: ctx.path, [ATTR_URL_SCHEME]: ctx.protocol };
    const span = tracer.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes }, parent);
    try {
      await context.with(withTracer(trace.setSpan(parent, span), tracer), next);
    } finally {
      const route = matchedRoute(ctx);
      if (route) span.updateName(`${ctx.method} ${route}`).setAttribute(ATTR_HTTP_ROUTE, route);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ctx.status);
      if (ctx.status >= 500) span.setAttribute(ATTR_ERROR_TYPE, String(ctx.status)).setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}

/** A request carries a body when it says how long it is (more than 0 bytes) or that it is chunked. */
const hasBody = (ctx: Context) => (ctx.request.length ?? 0) > 0 || ctx.get('transfer-encoding') !== '';

/**
 * Only application/json bodies are accepted on writes; anything else is a 415 before it is parsed. A
 * write without a body (POST /orders/:id/cancel) needs no Content-Type.
 */
const jsonOnly: Middleware = async (ctx, next) => {
  if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && hasBody(ctx) && !ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'request body must be application/json');
  }
  await next();
};

export interface HttpAppOptions {
  name: string;
  log: Logger;
  /** The service's routes; with /health, /ready, /metrics and /openapi.json they make its OpenAPI document. */
  routers: ContractRouter[];
  /** Named readiness checks, e.g. database and Kafka; /ready is 200 only when all pass. */
  readiness: Record<string, () => Promise<unknown>>;
  bodyLimit?: string;
  registry?: Registry;
  /** Facts about the running process added to the /health body (the relay's mode, for npm run status). */
  health?: Record<string, string>;
  /** The service's tracer (observability/tracing.ts startTracing); the process's when absent. */
  tracer?: Tracer;
  /** Errors that mean a store is unavailable for a moment (infra/transient.ts isTransient): answered 503 with Retry-After, not 500. */
  unavailable?: (err: unknown) => boolean;
}

export interface HttpApp {
  app: Koa;
  registry: Registry;
  /**
   * The drain before the server stops (a signal's, not a test's stop): from now on /ready answers 503 with
   * a `shutdown` check and every response carries Connection: close, while the app keeps serving; resolves
   * after `delayMs` (HTTP_DRAIN_DELAY_MS), when closeServer may stop accepting without a keep-alive client
   * still counting on a connection it would close. Once begun it lasts until the process ends.
   */
  drain(delayMs: number): Promise<void>;
}

export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const registry = opts.registry ?? new Registry();
  registry.setDefaultLabels({ service: opts.name });
  // The event-loop delay histogram samples every 100 ms instead of prom-client's 10 ms: 100 wake-ups a
  // second were most of what an idle service did.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const requests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const errors = new Counter({ name: 'http_errors_total', help: 'HTTP responses with status >= 500', labelNames: ['route'], registers: [registry] });
  for (const m of opts.routers.flatMap((r) => r.metrics ?? [])) registry.registerMetric(m);

  // The readiness checks /ready runs: the service's own, its routers' (the JWKS's), and `shutdown` from the
  // moment the drain begins.
  const readiness = { ...Object.fromEntries(opts.routers.flatMap((r) => Object.entries(r.readiness ?? {}))), ...opts.readiness };
  let drained: Promise<void> | undefined;

  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  // First, so that no response escapes it: while draining (drain()), every one closes its connection,
  // also one to a request that came in before the drain began.
  app.use(async (ctx, next) => {
    await next();
    if (drained) ctx.set('Connection', 'close');
  });
  // Next, so that the span covers the rest and sees the status the error middleware sets.
  app.use(traceRequests(opts.tracer ?? activeTracer()));
  app.use(async (ctx, next) => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = matchedRoute(ctx) ?? 'unmatched';
      requests.observe({ method: ctx.method, route, status: String(ctx.status) }, Number(process.hrtime.bigint() - start) / 1e9);
      if (ctx.status >= 500) errors.inc({ route });
    }
  });
  app.use(errorMiddleware(opts.log, opts.unavailable ?? (() => false)));
  app.use(jsonOnly);
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: opts.bodyLimit ?? '64kb', jsonStrict: true, encoding: 'utf-8' }));

  const routes = Object.assign({}, ...opts.routers.map((r) => r.routes)) as Routes;
  const document = serviceOpenApi(opts.name, routes);
  for (const r of [opsRouter({ name: opts.name, registry, readiness, document, ...(opts.health ? { health: opts.health } : {}) }), ...opts.routers]) {
    app.use(r.router.routes()).use(r.router.allowedMethods({ throw: false }));
  }
  const drain = (delayMs: number) => {
    if (drained) return drained;
    const until = Date.now() + delayMs;
    readiness.shutdown = async () => {
      throw new Error(`draining: stopping in ${Math.max(0, until - Date.now())} ms`);
    };
    opts.log.info({ delayMs }, 'draining: /ready answers 503 and every response closes its connection until the server stops');
    drained = delay(delayMs);
    return drained;
  };
  return { app, registry, drain };
}

/** Listens on `port` (0 picks a free one) and resolves with the server and its actual port. */
export function listen(app: Koa, port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}

/**
 * Stops accepting connections and lets the requests in flight finish: idle keep-alive connections are
 * closed at once and as they become idle, responses still to come tell the client to close; after
 * `graceMs` whatever is left is cut. Resolves once every connection is closed.
 */
export function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const closing = (_req: unknown, res: { setHeader(name: string, value: string): void }) => res.setHeader('connection', 'close');
    server.on('request', closing);
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
