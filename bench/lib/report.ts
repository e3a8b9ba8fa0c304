// What the benchmarks' reports share: where results go, the files written for one run (JSON, a markdown
// table, an SVG chart), re-rendering saved results (--from-json), and the lines every table starts with.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine';

export const RESULTS_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)), 'results');

/** How one benchmark renders its results. */
export interface Renderer<R> {
  chart(r: R): Promise<string>;
  markdown(r: R, svgName: string): string;
}

export interface ReportFiles {
  json: string;
  md: string;
  svg: string;
}

/** Writes <outDir>/<name>.json, .svg and .md. */
export async function writeReport<R>(outDir: string, name: string, results: R, render: Renderer<R>): Promise<ReportFiles> {
  await mkdir(outDir, { recursive: true });
  const files = { json: resolve(outDir, `${name}.json`), md: resolve(outDir, `${name}.md`), svg: resolve(outDir, `${name}.svg`) };
  await writeFile(files.json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files.svg, await render.chart(results));
  await writeFile(files.md, render.markdown(results, `${name}.svg`));
  return files;
}

/** --from-json: rewrites the table and chart next to saved results without running anything. */
export async function rewriteFromJson<R>(path: string, render: Renderer<R>): Promise<void> {
  const results = JSON.parse(await readFile(path, 'utf8')) as R;
  const base = path.replace(/\.json$/, '');
  await writeFile(`${base}.svg`, await render.chart(results));
  await writeFile(`${base}.md`, render.markdown(results, `${basename(base)}.svg`));
  process.stdout.write(`rewrote ${base}.md and ${base}.svg from ${path}\n`);
}

/** Prints the table of a run and where its files went. */
export function printReport<R>(results: R, files: ReportFiles, render: Renderer<R>): void {
  process.stdout.write(`${render.markdown(results, files.svg)}\nwrote ${files.json}\n      ${files.md}\n      ${files.svg}\n`);
}

interface RunHeader {
  startedAt: string;
  durationS: number;
  command: string;
  machine: MachineInfo;
}

/** The machine the run had and the command that started it. */
export function runLines(r: RunHeader): string[] {
  const m = r.machine;
  return [
    `Run ${r.startedAt} (${r.durationS} s) on ${m.cores} cores, ${m.memoryGiB} GiB (${m.cpuModel}), ${m.os}, Node ${m.node}${m.commit ? `, commit ${m.commit}` : ''}; ` +
      `highest 1-minute load average ${m.maxLoad ?? m.loadAvg[0]}.`,
    '',
    '```',
    r.command,
    '```',
    '',
  ];
}

export interface Target {
  target: string;
  met: boolean | null;
  detail: string;
}

const mark = (met: boolean | null) => (met === null ? 'ℹ' : met ? '✅ met' : '❌ missed');

export function targetLines(targets: Target[]): string[] {
  const rows = targets.map((t) => `| ${t.target} | ${mark(t.met)} | ${t.detail} |`);
  return ['## Targets', '', '| target | result | measured |', '|---|---|---|', ...rows, ''];
}

/** The results' options: the run's options without those that only say where and how it ran. */
export function recordedOptions<O extends { outDir: string; progress: boolean; command: string }>(o: O): Omit<O, 'outDir' | 'progress' | 'command'> {
  const { outDir: _o, progress: _p, command: _c, ...rest } = o;
  return rest;
}
