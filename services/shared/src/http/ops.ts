// The endpoints every HTTP service has, declared as route contracts like the services' own: /health,
// /ready (each named check, 503 while one fails), /metrics (Prometheus) and /openapi.json (the service's
// OpenAPI document, which describes these four too).
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { contractRouter, routes, type ContractRouter, type Routes } from './contract';
import { openApiDocument } from './openapi';

const Health = z.object({
  status: z.literal('ok'),
  service: z.string(),
  mode: z.enum(['debezium', 'polling']).optional().describe('The relay only: its relay mode (RELAY_MODE)'),
});
const Ready = z.object({
  status: z
    .enum(['ready', 'not_ready', 'degraded'])
    .describe('degraded: every check passes, but one reports something a person must look at (e.g. quarantined outbox rows)'),
  service: z.string(),
  checks: z.record(z.string(), z.string()).describe("Each check's outcome: 'ok', 'degraded: <what>' or 'failing: <reason>'"),
});

/**
 * What a readiness check resolves with when the service does its job but something needs a person (the
 * relay's quarantined rows): /ready stays 200, with status `degraded` and the reason in the check.
 */
export class Degraded {
  constructor(readonly reason: string) {}
}

export const OPS_ROUTES = routes({
  health: { method: 'get', path: '/health', summary: 'Liveness: the process answers', responses: { 200: { description: 'Alive', body: Health } } },
  ready: {
    method: 'get',
    path: '/ready',
    summary: 'Readiness: every dependency (database, Kafka, ...) answers within 2 s, and the service is doing its job (consuming, publishing)',
    responses: {
      200: { description: "Every check passes (status 'degraded' when one reports something a person must look at)", body: Ready },
      503: { description: 'A check fails; checks says which and why', body: Ready },
    },
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'The Prometheus text exposition format', contentType: 'text/plain', body: z.string() } },
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    summary: "This service's OpenAPI document",
    responses: { 200: { description: 'The OpenAPI 3.1 document (committed as contracts/http/<service>.json)', body: z.record(z.string(), z.unknown()) } },
  },
});

/** The OpenAPI document of the service `name` serving `routes` besides the endpoints every service has. */
export function serviceOpenApi(name: string, routes: Routes): Record<string, unknown> {
  return openApiDocument({ service: name, routes: { ...OPS_ROUTES, ...routes } });
}

export function opsRouter(opts: {
  name: string;
  registry: Registry;
  readiness: Record<string, () => Promise<unknown>>;
  document: object;
  /** Facts about the running process added to the /health body (the relay's mode). */
  health?: Record<string, string>;
}): ContractRouter {
  return contractRouter(OPS_ROUTES, {
    health: (_input, ctx) => {
      ctx.body = { status: 'ok', service: opts.name, ...opts.health };
    },
    ready: async (_input, ctx) => {
      const results = await Promise.all(
        Object.entries(opts.readiness).map(async ([name, check]) => {
          try {
            const outcome = await withTimeout(check(), 2000);
            return [name, outcome instanceof Degraded ? `degraded: ${outcome.reason}` : 'ok'] as const;
          } catch (err) {
            return [name, `failing: ${err instanceof Error ? err.message : String(err)}`] as const;
          }
        }),
      );
      const ok = results.every(([, v]) => !v.startsWith('failing: '));
      const degraded = results.some(([, v]) => v.startsWith('degraded: '));
      ctx.status = ok ? 200 : 503;
      ctx.body = { status: ok ? (degraded ? 'degraded' : 'ready') : 'not_ready', service: opts.name, checks: Object.fromEntries(results) };
    },
    metrics: async (_input, ctx) => {
      ctx.type = opts.registry.contentType;
      ctx.body = await opts.registry.metrics();
    },
    openapi: (_input, ctx) => {
      ctx.body = opts.document;
    },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
