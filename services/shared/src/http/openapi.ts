// A service's OpenAPI 3.1 document, built from its route contracts (contract.ts) with zod's own JSON
// Schema output (draft 2020-12, the dialect of OpenAPI 3.1): request schemas as the service reads them
// (io: input: defaults make a field optional), response schemas as it writes them (io: output). Every
// error status is answered with the shared error body, components/schemas/Error. Each service serves its
// document at /openapi.json; npm run contracts commits it under contracts/http/.
import { z } from 'zod';
import { ErrorBody } from './errors';
import type { ErrorStatus, RouteContract, Routes } from './contract';

/** The version of the published contracts (OpenAPI and AsyncAPI info.version); raised with a new topic version or API version. */
export const CONTRACTS_VERSION = '1.0.0';

type Json = Record<string, unknown>;

const ERRORS: Record<ErrorStatus, string> = {
  400: 'The input is invalid: validation_failed (error.fields names each field) or invalid_json',
  401: "The bearer token is missing or wrong: unauthorized, or for a shopper's JWT invalid_token or token_expired",
  403: "The caller may not act on this resource (another customer's): forbidden",
  404: 'Not found: not_found, or the code the route describes',
  409: 'In conflict with the current state: the code the route describes',
  412: 'A precondition (If-Match) does not hold: precondition_failed; nothing changed',
  413: 'The body is larger than HTTP_BODY_LIMIT (payload_too_large), or the event it causes larger than OUTBOX_MAX_EVENT_BYTES (event_too_large)',
  415: 'The body is not application/json: unsupported_media_type',
  422: 'The request is well-formed but cannot be processed: the code the route describes',
  429: 'Too many requests from this customer (or address): rate_limited; Retry-After says when to retry',
  500: 'Internal error: internal (the detail is in the service log, not in the response)',
  503: "A store the request needs is unavailable for a moment (a database restarting or failing over): unavailable, nothing changed, Retry-After says when to retry; on a shopper's route also auth_unavailable: the identity provider's keys (AUTH_JWKS_URL) cannot be fetched to verify the JWT; on /ready: not ready",
};

/** The JSON Schema of `schema`, without $schema (the document's dialect applies). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Json;
  return rest;
}

function parameters(c: RouteContract): Json[] {
  const from = (where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined) => {
    if (!schema) return [];
    const object = jsonSchema(schema, 'input');
    const required = new Set((object.required ?? []) as string[]);
    return Object.entries((object.properties ?? {}) as Record<string, Json>).map(([name, s]) => {
      const { description, ...rest } = s;
      return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
    });
  };
  return [...from('path', c.params), ...from('query', c.query), ...from('header', c.headers)];
}

function errorStatuses(c: RouteContract): ErrorStatus[] {
  const all = new Set<ErrorStatus>([...(c.errors ?? []), ...(Object.keys(c.errorNotes ?? {}).map(Number) as ErrorStatus[])]);
  if (c.params || c.query || c.headers || c.body) all.add(400);
  if (c.admin || c.shopper) all.add(401);
  if (c.rateLimited) all.add(429);
  if (c.body) [413, 415].forEach((s) => all.add(s as ErrorStatus));
  all.add(500);
  all.add(503);
  return [...all].sort((a, b) => a - b);
}

function operation(operationId: string, c: RouteContract): Json {
  const responses: Json = {};
  for (const [status, r] of Object.entries(c.responses)) {
    if (!r) continue;
    const headers = r.headers && Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]));
    responses[status] = {
      description: r.description,
      ...(headers ? { headers } : {}),
      ...(r.body ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.body, 'output') } } } : {}),
    };
  }
  for (const status of errorStatuses(c)) {
    const note = c.errorNotes?.[status];
    responses[status] ??= {
      description: note ? `${ERRORS[status]}; ${note}` : ERRORS[status],
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const params = parameters(c);
  return {
    operationId,
    summary: c.summary,
    ...(c.description ? { description: c.description } : {}),
    ...(c.admin ? { security: [{ adminToken: [] }] } : {}),
    ...(c.shopper ? { security: [{ shopperToken: [] }, { adminToken: [] }] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(c.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(c.body, 'input') } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of a service serving `routes`. */
export function openApiDocument(opts: { service: string; description?: string; routes: Routes }): Json {
  const paths: Record<string, Json> = {};
  for (const [id, c] of Object.entries(opts.routes)) {
    const path = c.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [c.method]: operation(id, c) };
  }
  return {
    openapi: '3.1.0',
    info: { title: `QT-Shop ${opts.service}`, version: CONTRACTS_VERSION, ...(opts.description ? { description: opts.description } : {}) },
    paths,
    components: {
      schemas: { Error: { title: 'Error', ...jsonSchema(ErrorBody, 'output') } },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN setting (default dev-admin-token)' },
        shopperToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A shopper's JWT: sub is the customer id (AUTH_JWT_SECRET or AUTH_JWKS_URL, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE); npm run token -- <customer> prints a development one",
        },
      },
    },
  };
}
