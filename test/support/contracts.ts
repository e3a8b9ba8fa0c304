// Validators for the committed contracts (contracts/), for the contract tests: a record a relay produced
// against its event schema and the AsyncAPI headers, an HTTP exchange against its service's OpenAPI document.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EVENTS, isEventType } from '@qtshop/shared/events';

const contractsDir = resolve(import.meta.dirname, '../../contracts');
export const readContract = (path: string): Record<string, unknown> => JSON.parse(readFileSync(resolve(contractsDir, path), 'utf8')) as Record<string, unknown>;

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

/** A draft 2020-12 validator with formats (uuid, date-time). Documents with extension keywords need `strict: false`. */
export function newAjv(opts: { strict?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: opts.strict ?? true });
  addFormats(ajv);
  return ajv;
}

export const describeErrors = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');

type Json = Record<string, unknown>;
const asyncApi = () =>
  readContract('events/asyncapi.json') as { channels: Record<string, { address: string; messages: Json }>; components: { messages: Record<string, Json> } };

/** A Kafka record as the relays produce it (TopicReader's Received has this shape). */
export interface RecordLike {
  topic: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

const recordAjv = newAjv();
const compiled = new Map<string, ReturnType<typeof recordAjv.compile>>();
const validatorOf = (id: string, schema: () => Json) => {
  if (!compiled.has(id)) compiled.set(id, recordAjv.compile(schema()));
  return compiled.get(id)!;
};

/**
 * What makes `rec` differ from the committed event contracts: its payload against contracts/events/<eventType>.json,
 * its headers against the AsyncAPI message, its topic against the channel that carries the type, its key against
 * the payload's key field. Empty when it matches.
 */
export function recordContractProblems(rec: RecordLike): string[] {
  const type = rec.headers.eventType ?? '';
  const doc = asyncApi();
  const message = doc.components.messages[type] as { headers: Json } | undefined;
  if (!message) return [`eventType ${JSON.stringify(type)} is not in contracts/events/asyncapi.json`];
  const problems: string[] = [];
  const channel = Object.values(doc.channels).find((c) => type in c.messages);
  if (channel?.address !== rec.topic) problems.push(`${type} belongs on ${channel?.address}, not ${rec.topic}`);
  const headers = validatorOf(`headers:${type}`, () => message.headers);
  if (!headers(rec.headers)) problems.push(`headers: ${describeErrors(headers.errors)}`);
  let payload: unknown;
  try {
    payload = JSON.parse(rec.value ?? '');
  } catch {
    return [...problems, `value is not JSON: ${rec.value}`];
  }
  const schema = validatorOf(`payload:${type}`, () => readContract(`events/${type}.json`));
  if (!schema(payload)) problems.push(`payload: ${describeErrors(schema.errors)}`);
  const keyField = isEventType(type) ? EVENTS[type].key : undefined;
  if (!keyField || (payload as Json)[keyField] !== rec.key) problems.push(`key ${rec.key} is not the payload's ${keyField}`);
  return problems;
}

/** One HTTP request and its response, as the contract check takes them. */
export interface Exchange {
  method: string;
  /** The path without the query, e.g. /products/1f0c… */
  path: string;
  query: Record<string, string>;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  body?: unknown;
  status: number;
  contentType?: string;
  responseBody: string;
}

interface Operation {
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: unknown;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

class OpenApiChecker {
  private readonly doc: { paths: Record<string, Record<string, Operation>> };
  private readonly ajv = newAjv({ strict: false });
  /** Parameters arrive as text: this one coerces '50' to 50 before it validates. */
  private readonly params = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });

  constructor(readonly service: string) {
    this.doc = readContract(`http/${service}.json`) as typeof this.doc;
    this.ajv.addSchema(this.doc, service);
    addFormats(this.params);
    this.params.addSchema(this.doc, service);
  }

  private validate(ajv: Ajv2020, at: string, value: unknown): string | undefined {
    const v = ajv.getSchema(`${this.service}#/${at}`) ?? ajv.compile({ $ref: `${this.service}#/${at}` });
    return v(value) ? undefined : describeErrors(v.errors);
  }

  check(ex: Exchange): string[] {
    const match = Object.keys(this.doc.paths)
      .map((template) => ({ template, m: new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`).exec(ex.path) }))
      .find(({ template, m }) => m && this.doc.paths[template]![ex.method.toLowerCase()]);
    if (!match) return [`${ex.method} ${ex.path}: no operation in contracts/http/${this.service}.json`];
    const method = ex.method.toLowerCase();
    const op = this.doc.paths[match.template]![method]!;
    const at = (...parts: string[]) => pointer('paths', match.template, method, ...parts);
    const names = [...match.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const pathValues = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match.m![i + 1]!)]));

    // Is the request one the document accepts? If not, the service must refuse it (400, or 401 first).
    const requestProblems: string[] = [];
    (op.parameters ?? []).forEach((p, i) => {
      const value = p.in === 'path' ? pathValues[p.name] : p.in === 'query' ? ex.query[p.name] : ex.headers[p.name.toLowerCase()];
      if (value === undefined) {
        if (p.required) requestProblems.push(`${p.in} parameter ${p.name} missing`);
        return;
      }
      const bad = this.validate(this.params, at('parameters', String(i), 'schema'), value);
      if (bad) requestProblems.push(`${p.in} parameter ${p.name}: ${bad}`);
    });
    const known = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    for (const q of Object.keys(ex.query)) if (!known.has(q)) requestProblems.push(`query parameter ${q} is not documented`);
    if (op.requestBody) {
      const bad = this.validate(this.ajv, at('requestBody', 'content', 'application/json', 'schema'), ex.body);
      if (bad) requestProblems.push(`body: ${bad}`);
    } else if (ex.body !== undefined) requestProblems.push('the operation takes no body');
    if (op.security && !ex.headers.authorization) requestProblems.push('no Authorization header');

    const name = `${ex.method} ${ex.path} → ${ex.status}`;
    const problems: string[] = [];
    if (requestProblems.length > 0 && ![400, 401].includes(ex.status)) {
      problems.push(`${name}: the request does not match the document (${requestProblems.join('; ')}) yet was not refused with 400 or 401`);
    }
    const response = op.responses[String(ex.status)];
    if (!response) return [...problems, `${name}: status ${ex.status} is not documented`];
    const media = Object.keys(response.content ?? {});
    if (media.length === 0) return ex.responseBody === '' ? problems : [...problems, `${name}: a body where the document has none`];
    if (!media.some((m) => ex.contentType?.startsWith(m))) return [...problems, `${name}: content type ${ex.contentType} is not ${media.join(', ')}`];
    if (!ex.contentType?.startsWith('application/json')) return problems;
    let body: unknown;
    try {
      body = JSON.parse(ex.responseBody);
    } catch {
      return [...problems, `${name}: the body is not JSON`];
    }
    const bad = this.validate(this.ajv, at('responses', String(ex.status), 'content', 'application/json', 'schema'), body);
    return bad ? [...problems, `${name}: response body: ${bad}`] : problems;
  }
}

const checkers = new Map<string, OpenApiChecker>();

/** What makes `ex` differ from contracts/http/<service>.json; empty when request and response match. */
export function exchangeProblems(service: string, ex: Exchange): string[] {
  if (!checkers.has(service)) checkers.set(service, new OpenApiChecker(service));
  return checkers.get(service)!.check(ex);
}
