// Validators for the committed contracts (contracts/), for the contract tests: a record a relay produced
// against its event schema and the AsyncAPI headers, an HTTP exchange against its service's OpenAPI document.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

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
