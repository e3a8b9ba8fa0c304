// The architecture, checked on every `npm test` (docs/architecture.md describes it):
// - no import cycle anywhere in the repository's TypeScript, type-only imports included;
// - no service imports another service: they talk through Kafka only;
// - a service's domain/ knows nothing of HTTP (no Koa, nothing of @qtshop/shared/http, not its own api.ts);
// - the shared package's concerns import each other one way only (SHARED_LAYERS), and by file, never
//   through another concern's index;
// - operator tooling ('@qtshop/shared/tooling': migrations, DLQ, read-to-end, the config table) stays out of
//   the services' processes;
// - no source file under services/ over MAX_LINES lines without a `// Size:` line at its top saying why.
// Each rule is also run on planted code, so that a rule that cannot fail is caught too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const servicesDir = resolve(root, 'services');
const sharedSrc = resolve(servicesDir, 'shared/src');
const MAX_LINES = 350;

/** What each concern of services/shared/src may import besides itself (runtime code; tests may import more). */
const SHARED_LAYERS: Record<string, string[]> = {
  platform: [],
  observability: ['platform'],
  infra: ['platform', 'observability'],
  events: [],
  outbox: ['platform', 'observability', 'events'],
  messaging: ['platform', 'infra', 'observability', 'events'],
  http: ['platform', 'observability', 'events', 'outbox'],
  delivery: ['platform', 'infra', 'events', 'outbox', 'messaging'],
  service: ['platform', 'infra', 'observability', 'events', 'outbox', 'messaging', 'http'],
  tooling: ['platform', 'infra', 'observability', 'events', 'outbox', 'messaging', 'delivery'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'dist') return [];
    const path = resolve(dir, e.name);
    return e.isDirectory() ? tsFiles(path) : e.name.endsWith('.ts') ? [path] : [];
  });
}

const isTest = (file: string) => /\.(unit|int|e2e)\.test\.ts$/.test(file);

/** Module specifiers of static imports (type-only ones too), re-exports and dynamic imports. */
export function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** The file `specifier`, written in `file`, loads; undefined for a package. */
function resolveImport(file: string, specifier: string): string | undefined {
  const concern = /^@qtshop\/shared\/([a-z-]+)$/.exec(specifier);
  if (concern) return resolve(sharedSrc, concern[1]!, 'index.ts');
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(file), specifier);
  return [`${base}.ts`, resolve(base, 'index.ts'), base].find((p) => p.endsWith('.ts') && existsSync(p));
}

/** Every cycle of `graph` (file → files it imports), one per strongly connected component, as a path. */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.reverse());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

const rel = (f: string) => relative(root, f);
const serviceOf = (file: string) => /^services\/([^/]+)\//.exec(rel(file))?.[1];
const concernOf = (file: string) => /^services\/shared\/src\/([^/.]+)\//.exec(rel(file))?.[1];

/** Why `file` may not import `specifier` (resolved to `target`); undefined when it may. */
export function forbidden(file: string, specifier: string, target: string | undefined): string | undefined {
  const from = rel(file);
  const service = serviceOf(file);
  const to = target && rel(target);
  const targetService = target && serviceOf(target);
  if (service && service !== 'shared' && targetService && targetService !== 'shared' && targetService !== service) {
    return `a service imports another service (${targetService})`;
  }
  if (/^services\/[^/]+\/src\/domain\//.test(from)) {
    if (/^(koa|@koa\/)/.test(specifier) || specifier === '@qtshop/shared/http' || to?.startsWith('services/shared/src/http/')) return 'domain/ imports HTTP';
    if (to && /^services\/[^/]+\/src\/(api|http-errors)\.ts$/.test(to)) return 'domain/ imports its HTTP edge';
  }
  const inTooling = (p: string | undefined) => !!p && p.startsWith('services/shared/src/tooling/');
  const runtime = from.startsWith('services/') && !inTooling(from);
  if (runtime && (/^@qtshop\/shared\/tooling(\/|$)/.test(specifier) || inTooling(to))) return 'runtime code imports operator tooling';
  const concern = concernOf(file);
  const targetConcern = target && concernOf(target);
  if (concern && !isTest(file)) {
    if (to && !to.startsWith('services/shared/')) return 'the shared package imports a service';
    if (specifier.startsWith('@qtshop/shared/')) return 'the shared package imports itself through a concern entry';
    if (targetConcern && targetConcern !== concern) {
      if (to!.endsWith('/index.ts')) return `imports ${targetConcern} through its index, not the file`;
      if (!(SHARED_LAYERS[concern] ?? []).includes(targetConcern)) return `${concern} may not import ${targetConcern}`;
    }
  }
  return undefined;
}

const files = tsFiles(root);
const graph = new Map(
  files.map((f) => [
    f,
    importsOf(readFileSync(f, 'utf8'))
      .map((s) => resolveImport(f, s))
      .filter((t): t is string => !!t),
  ]),
);

describe('the architecture', () => {
  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(300);
    expect(Object.keys(SHARED_LAYERS).sort()).toEqual(
      readdirSync(sharedSrc, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    );
  });

  it('has no import cycle', () => {
    expect(cyclesOf(graph).map((c) => c.map(rel).join(' → '))).toEqual([]);
  });

  it('breaks no import rule', () => {
    const offences = files.flatMap((f) =>
      importsOf(readFileSync(f, 'utf8')).flatMap((s) => {
        const why = forbidden(f, s, resolveImport(f, s));
        return why ? [`${rel(f)}: ${s}: ${why}`] : [];
      }),
    );
    expect(offences).toEqual([]);
  });

  it(`has no source file under services/ over ${MAX_LINES} lines without a reason at its top`, () => {
    const long = files
      .filter((f) => f.startsWith(servicesDir) && !isTest(f))
      .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n') }))
      .filter(({ lines }) => lines.length > MAX_LINES && !lines.slice(0, 15).some((l) => l.startsWith('// Size:')))
      .map(({ f, lines }) => `${rel(f)}: ${lines.length} lines`);
    expect(long).toEqual([]);
  });
});

describe('the rules, on planted code', () => {
  const at = (p: string) => resolve(root, p);

  it('finds a cycle, also one made of type-only imports', () => {
    const planted = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
      ['e', ['e']],
    ]);
    expect(cyclesOf(planted)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(importsOf("import type { X } from './x';\nexport * from './y';\nconst z = await import('./z');")).toEqual(['./x', './y', './z']);
  });

  it('refuses a service importing another', () => {
    const file = at('services/basket/src/api.ts');
    expect(forbidden(file, '../../catalog/src/store', at('services/catalog/src/store.ts'))).toMatch(/another service/);
    expect(forbidden(file, './store', at('services/basket/src/store.ts'))).toBeUndefined();
  });

  it('refuses HTTP in domain/', () => {
    const file = at('services/catalog/src/domain/products.ts');
    expect(forbidden(file, 'koa', undefined)).toMatch(/HTTP/);
    expect(forbidden(file, '@qtshop/shared/http', at('services/shared/src/http/index.ts'))).toMatch(/HTTP/);
    expect(forbidden(file, '../api', at('services/catalog/src/api.ts'))).toMatch(/HTTP edge/);
    expect(forbidden(file, '@qtshop/shared/events', at('services/shared/src/events/index.ts'))).toBeUndefined();
  });

  it('refuses tooling in runtime code, however it is imported', () => {
    const service = at('services/catalog/src/api.ts');
    expect(forbidden(service, '@qtshop/shared/tooling', at('services/shared/src/tooling/index.ts'))).toMatch(/tooling/);
    const shared = at('services/shared/src/messaging/inbox/pg.ts');
    expect(forbidden(shared, '../../tooling/inbox-table', at('services/shared/src/tooling/inbox-table.ts'))).toMatch(/tooling/);
    expect(forbidden(at('scripts/dlq.ts'), '@qtshop/shared/tooling', at('services/shared/src/tooling/index.ts'))).toBeUndefined();
  });

  it('refuses a concern importing against the layers, or through an index', () => {
    const events = at('services/shared/src/events/registry.ts');
    expect(forbidden(events, '../http/errors', at('services/shared/src/http/errors.ts'))).toMatch(/events may not import http/);
    const http = at('services/shared/src/http/app.ts');
    expect(forbidden(http, '../outbox', at('services/shared/src/outbox/index.ts'))).toMatch(/through its index/);
    expect(forbidden(http, '@qtshop/shared/outbox', at('services/shared/src/outbox/index.ts'))).toMatch(/through a concern entry/);
    expect(forbidden(http, '../outbox/errors', at('services/shared/src/outbox/errors.ts'))).toBeUndefined();
  });
});
