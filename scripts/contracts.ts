// npm run contracts [-- --write]: the published contracts (README "Contracts"), generated from
// the code: contracts/events/<EventType>.json and contracts/events/asyncapi.json from the event registry.
//   (no option)  check: exits 1 naming every committed file that differs from what the code generates
//   --write      writes the generated files (and deletes generated files the code no longer makes)
// test/contracts/contracts.unit.test.ts runs the same checks in npm test.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runAsScript } from '@qtshop/shared';
import { asyncApiDocument, EVENT_TYPES, eventSchema, type JsonSchema } from '@qtshop/shared/tooling';

export const CONTRACTS_DIR = resolve(import.meta.dirname, '../contracts');
/** Generated files live here. */
const GENERATED = ['events', 'http'];
const VERSION = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }).version;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const currentEventSchemas = (): Record<string, JsonSchema> => Object.fromEntries(EVENT_TYPES.map((t) => [t, eventSchema(t)]));

/** Every generated contract file, by path under contracts/, with the content the code generates. */
export function generatedContracts(): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(currentEventSchemas()).map(([t, s]) => [`events/${t}.json`, json(s)])),
    'events/asyncapi.json': json(asyncApiDocument(VERSION)),
  };
}

function listFiles(dir: string, under: string): string[] {
  const at = join(dir, under);
  if (!existsSync(at)) return [];
  return readdirSync(at, { withFileTypes: true }).flatMap((e) => {
    const rel = `${under}/${e.name}`;
    return e.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

/** The generated files that are missing, stale, or no longer generated, in `dir` (contracts/ by default). */
export function staleContracts(dir = CONTRACTS_DIR): string[] {
  const want = generatedContracts();
  const have = GENERATED.flatMap((d) => listFiles(dir, d));
  const stale = Object.entries(want)
    .filter(([path, content]) => !existsSync(join(dir, path)) || readFileSync(join(dir, path), 'utf8') !== content)
    .map(([path]) => path);
  return [...stale, ...have.filter((p) => !(p in want))].sort();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

runAsScript(import.meta.url, 'contracts', async (argv) => {
  if (argv.includes('--write')) {
    const want = generatedContracts();
    for (const p of staleContracts()) if (!(p in want)) rmSync(join(CONTRACTS_DIR, p));
    write(CONTRACTS_DIR, want);
    process.stdout.write(`wrote ${Object.keys(want).length} files under contracts/\n`);
    return 0;
  }
  const stale = staleContracts();
  for (const p of stale) process.stderr.write(`contracts/${p} differs from what the code generates (npm run contracts -- --write)\n`);
  if (stale.length === 0) process.stdout.write('contracts are up to date\n');
  return stale.length === 0 ? 0 : 1;
});
