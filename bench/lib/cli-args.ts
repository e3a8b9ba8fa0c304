// What the two benchmark entry points share: number/list values, what an entry does with its options
// (--help, --from-json, a run), and running as a script.
import { runAsScript as runScript } from '@qtshop/shared/platform';
import { printReport, rewriteFromJson, type Renderer, type ReportFiles } from './report';

export const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

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

/** What a benchmark's entry does: --help prints the usage, --from-json re-renders saved results, else it runs. */
export async function benchMain<O, R>(
  argv: string[],
  b: {
    parse: (argv: string[]) => O | 'help' | { fromJson: string };
    usage: string;
    render: Renderer<R>;
    run: (o: O) => Promise<{ results: R; files: ReportFiles }>;
    exitCode?: (results: R) => number;
  },
): Promise<number> {
  const o = b.parse(argv);
  if (o === 'help') {
    process.stdout.write(b.usage);
    return 0;
  }
  if (typeof o === 'object' && o !== null && 'fromJson' in o && typeof o.fromJson === 'string') {
    await rewriteFromJson(o.fromJson, b.render);
    return 0;
  }
  const { results, files } = await b.run(o as O);
  printReport(results, files, b.render);
  return b.exitCode?.(results) ?? 0;
}

/** Runs `main` when the module is the script node was started with; a benchmark that fails exits 2. */
export function runAsScript(moduleUrl: string, what: string, main: (argv: string[]) => Promise<number>): void {
  runScript(moduleUrl, what, main, { failureCode: 2 });
}
