// What the two benchmark entry points share: number/list options, the options every benchmark has
// (--db, --name, --out, --quiet), re-rendering saved results (--from-json), and running as a script.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { runAsScript as runScript } from '@qtshop/shared';

export const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export const num = (v: string, what: string, min = 0) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${what}: "${v}" must be a number ≥ ${min}`);
  return n;
};

export const nums = (v: string, what: string) =>
  list(v).map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${what}: "${s}" is not a positive number`);
    return n;
  });

export interface CommonOptions {
  db: string;
  name: string;
  outDir: string;
  progress: boolean;
}

/** Applies --db, --name, --out and --quiet to `o`. */
export function applyCommon<O extends CommonOptions>(o: O, values: { db?: string | undefined; name?: string | undefined; out?: string | undefined; quiet?: boolean | undefined }): O {
  if (values.db) {
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(values.db)) throw new Error('--db: lower-case letters, digits and _ only');
    o.db = values.db;
  }
  if (values.name) o.name = values.name;
  if (values.out) o.outDir = resolve(values.out);
  if (values.quiet) o.progress = false;
  return o;
}

/** --from-json: rewrites the table and chart next to saved results without running anything. */
export async function rewriteFromJson<R>(path: string, chart: (r: R) => Promise<string>, markdown: (r: R, svgName: string) => string): Promise<void> {
  const results = JSON.parse(await readFile(path, 'utf8')) as R;
  const base = path.replace(/\.json$/, '');
  await writeFile(`${base}.svg`, await chart(results));
  await writeFile(`${base}.md`, markdown(results, `${basename(base)}.svg`));
  process.stdout.write(`rewrote ${base}.md and ${base}.svg from ${path}\n`);
}

/** Runs `main` when the module is the script node was started with; a benchmark that fails exits 2. */
export function runAsScript(moduleUrl: string, what: string, main: (argv: string[]) => Promise<number>): void {
  runScript(moduleUrl, what, main, { failureCode: 2 });
}
