// Validators for the committed contracts (contracts/), for the contract tests: a record a relay produced
// against its event schema and the AsyncAPI headers, an HTTP exchange against its service's OpenAPI document.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EVENTS, isEventType } from '@qtshop/shared';

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
