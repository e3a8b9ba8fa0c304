// Services import the runtime entry '@qtshop/shared' only; operator tooling ('@qtshop/shared/tooling':
// migrations, DLQ, read-to-end, connector files by name, the config table) stays out of their processes.
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const servicesDir = resolve(root, 'services');
const sharedSrc = resolve(servicesDir, 'shared/src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(resolve(dir, e.name)) : e.name.endsWith('.ts') ? [resolve(dir, e.name)] : [],
  );
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** True when `specifier`, written in `file`, reaches the tooling entry or one of its modules. */
function reachesTooling(file: string, specifier: string): boolean {
  if (/^@qtshop\/shared\/tooling(\/|$)/.test(specifier)) return true;
  if (!specifier.startsWith('.')) return false;
  const target = relative(resolve(sharedSrc, 'tooling'), resolve(file, '..', specifier));
  return target === '' || !target.startsWith('..');
}

const offenders = (files: string[]) =>
  files.flatMap((f) =>
    importsOf(readFileSync(f, 'utf8'))
      .filter((s) => reachesTooling(f, s))
      .map((s) => `${relative(root, f)}: ${s}`),
  );

describe('the tooling entry', () => {
  const serviceFiles = readdirSync(servicesDir)
    .filter((name) => name !== 'shared')
    .flatMap((name) => tsFiles(resolve(servicesDir, name, 'src')));

  it('is imported by no file under services/*/src', () => {
    expect(serviceFiles.length).toBeGreaterThan(20);
    expect(offenders(serviceFiles)).toEqual([]);
  });

  it('is not reached from the runtime entry (services/shared/src outside tooling/)', () => {
    const runtime = tsFiles(sharedSrc).filter((f) => !relative(sharedSrc, f).startsWith('tooling/'));
    expect(offenders(runtime)).toEqual([]);
  });

  it('is recognised however it is imported', () => {
    const service = resolve(servicesDir, 'catalog/src/api.ts');
    const found = (code: string) => importsOf(code).some((s) => reachesTooling(service, s));
    expect(found("import { migrateLatest } from '@qtshop/shared/tooling';")).toBe(true);
    expect(found("export * from '@qtshop/shared/tooling/dlq';")).toBe(true);
    expect(found("const t = await import('../../shared/src/tooling/index');")).toBe(true);
    expect(found("import type { Knex } from '@qtshop/shared/infra';")).toBe(false);
    expect(found("import { x } from './tooling';")).toBe(false);
  });
});
