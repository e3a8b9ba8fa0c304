// npm run contracts [-- --write | --release]: the published contracts (docs/concepts.md "Contracts"), generated from
// the code: contracts/http/<service>.json from each service's route contracts (what it serves at
// /openapi.json with the default settings), contracts/events/<EventType>.json and
// contracts/events/asyncapi.json from the event registry.
//   (no option)  check: exits 1 naming every committed file that differs from what the code generates, and
//                every change of an event schema that breaks consumers of the released one
//   --write      writes the generated files (and deletes generated files the code no longer makes)
//   --release    copies the current event schemas to contracts/events/released/ (after a deliberate change)
// test/contracts/contracts.unit.test.ts runs the same checks in npm test.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runAsScript } from '@qtshop/shared/platform';
import { CONTRACTS_VERSION, serviceOpenApi, type Routes } from '@qtshop/shared/http';
import { asyncApiDocument, EVENT_TYPES, eventCompatibility, eventSchema, type JsonSchema, type ShopService } from '@qtshop/shared/tooling';
import { basketRoutes } from '../services/basket/src/api';
import { CATALOG_ROUTES } from '../services/catalog/src/api';
import { INVENTORY_ROUTES } from '../services/inventory/src/api';
import { orderCommandRoutes } from '../services/order-command/src/api';
import { ORDER_QUERY_ROUTES } from '../services/order-query/src/api';
import { SERVICE_SETTINGS } from './service-settings';

export const CONTRACTS_DIR = resolve(import.meta.dirname, '../contracts');
/** Generated files live here; released/ is written only by --release. */
const GENERATED = ['events', 'http'];
const RELEASED = 'events/released';
const byDefault = (service: ShopService, key: string) => Number(SERVICE_SETTINGS[service][key]!.default);

/** Each service's routes as it serves them with the default settings (the relay has only the endpoints every service has). */
export const HTTP_ROUTES: Record<ShopService, Routes> = {
  catalog: CATALOG_ROUTES,
  inventory: INVENTORY_ROUTES,
  basket: basketRoutes(byDefault('basket', 'BASKET_MAX_LINES')),
  'order-command': orderCommandRoutes(byDefault('order-command', 'ORDER_MAX_LINES')),
  'order-query': ORDER_QUERY_ROUTES,
  relay: {},
};

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const currentEventSchemas = (): Record<string, JsonSchema> => Object.fromEntries(EVENT_TYPES.map((t) => [t, eventSchema(t)]));

/** Every generated contract file, by path under contracts/, with the content the code generates. */
export function generatedContracts(): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(HTTP_ROUTES).map(([service, routes]) => [`http/${service}.json`, json(serviceOpenApi(service, routes))])),
    ...Object.fromEntries(Object.entries(currentEventSchemas()).map(([t, s]) => [`events/${t}.json`, json(s)])),
    'events/asyncapi.json': json(asyncApiDocument(CONTRACTS_VERSION)),
  };
}

function listFiles(dir: string, under: string): string[] {
  const at = join(dir, under);
  if (!existsSync(at)) return [];
  return readdirSync(at, { withFileTypes: true }).flatMap((e) => {
    const rel = `${under}/${e.name}`;
    if (rel === RELEASED) return [];
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

/** The released event schemas, by event type. */
export function releasedEventSchemas(dir = CONTRACTS_DIR): Record<string, JsonSchema> {
  if (!existsSync(join(dir, RELEASED))) return {};
  const files = readdirSync(join(dir, RELEASED)).filter((f) => f.endsWith('.json'));
  return Object.fromEntries(files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, RELEASED, f), 'utf8')) as JsonSchema]));
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
  if (argv.includes('--release')) {
    rmSync(join(CONTRACTS_DIR, RELEASED), { recursive: true, force: true });
    write(join(CONTRACTS_DIR, RELEASED), Object.fromEntries(Object.entries(currentEventSchemas()).map(([t, s]) => [`${t}.json`, json(s)])));
    process.stdout.write(`released ${EVENT_TYPES.length} event schemas to contracts/${RELEASED}/\n`);
    return 0;
  }
  const stale = staleContracts();
  const breaking = eventCompatibility(releasedEventSchemas(), currentEventSchemas());
  for (const p of stale) process.stderr.write(`contracts/${p} differs from what the code generates (npm run contracts -- --write)\n`);
  for (const m of breaking) process.stderr.write(`breaking change: ${m}\n`);
  if (stale.length === 0 && breaking.length === 0) process.stdout.write('contracts are up to date and compatible with the released event schemas\n');
  return stale.length + breaking.length === 0 ? 0 : 1;
});
