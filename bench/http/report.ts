// The http benchmark's results: targets, the markdown table and the chart.
import { groupedBars, renderSvg, stack, type BarRow } from '../lib/chart';
import type { MachineInfo } from '../lib/machine';
import { runLines, targetLines, type Renderer, type Target } from '../lib/report';
import { fmt } from '../lib/stats';
import type { HttpBenchOptions, HttpTarget } from './options';

/** The table's latency columns, and the chart's bars. */
const LATENCIES = ['p50', 'p90', 'p99', 'max', 'mean'] as const;
const PERCENTILES = ['p50', 'p90', 'p99'];

export interface HttpRow {
  target: HttpTarget;
  label: string;
  /** Successful requests (or pgbench transactions) per second. */
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  total: number;
  non2xx: number;
  errors: number;
  /** Why a target did not run (pgbench missing). */
  skipped?: string;
}

export interface HttpBenchResults {
  name: string;
  startedAt: string;
  durationS: number;
  command: string;
  machine: MachineInfo;
  options: Omit<HttpBenchOptions, 'outDir' | 'progress' | 'command'>;
  rows: HttpRow[];
  targets: Target[];
  notes: string[];
}

/** `a` reaches at least `min` of `b`'s rate. */
function atLeastOf(target: string, a: HttpRow, b: HttpRow, min: number): Target {
  const ratio = a.perSecond / b.perSecond;
  return { target, met: ratio >= min, detail: `${fmt(a.perSecond)} vs ${fmt(b.perSecond)} /s (${fmt(ratio * 100)}%)` };
}

export function evaluateHttpTargets(rows: HttpRow[]): HttpBenchResults['targets'] {
  const by = (t: HttpTarget) => rows.find((r) => r.target === t && !r.skipped);
  const out: HttpBenchResults['targets'] = [];
  const post = by('post');
  const pg = by('pgbench');
  const postTarget = 'POST /products ≥ 40% of the pgbench transaction rate';
  if (post && pg) out.push(atLeastOf(postTarget, post, pg, 0.4));
  else if (post) out.push({ target: postTarget, met: null, detail: 'pgbench did not run' });
  const get = by('get');
  const koa = by('koa');
  if (get && koa) out.push(atLeastOf('GET /products/:id ≥ 30% of the bare Koa handler', get, koa, 0.3));
  return out;
}

export function httpMarkdown(r: HttpBenchResults, svgName: string): string {
  const lines = [
    `# HTTP benchmark: ${r.name}`,
    '',
    ...runLines(r),
    `${r.options.connections} connections (pgbench: clients), ${r.options.durationS} s measured after ${r.options.warmupS} s of warm-up per target; ` +
      `servers in their own Node process, autocannon in the bench process, PostgreSQL, Kafka and Connect on the same machine. ` +
      `GET cycles through ${r.options.seed} products; ` +
      `POST creates a product and its ProductCreated outbox row in one transaction, on database ${r.options.db}.`,
    '',
    `![requests per second and latency](${svgName})`,
    '',
    '| target | per second | p50 ms | p90 ms | p99 ms | max ms | mean ms | total | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) =>
      x.skipped
        ? `| ${x.label} | skipped: ${x.skipped} | | | | | | | | |`
        : `| ${[x.label, ...[x.perSecond, ...LATENCIES.map((p) => x.latencyMs[p])].map((v) => fmt(v)), x.total, x.non2xx, x.errors].join(' | ')} |`,
    ),
    '',
    ...targetLines(r.targets),
  ];
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export async function httpChart(r: HttpBenchResults): Promise<string> {
  const ok = r.rows.filter((x) => !x.skipped);
  const rps: BarRow[] = ok.map((x) => ({ label: x.label, series: 'per second', value: x.perSecond }));
  const lat: BarRow[] = ok.flatMap((x) => (['p50', 'p90', 'p99'] as const).map((p) => ({ label: x.label, series: p, value: x.latencyMs[p] })));
  return renderSvg(
    stack(`HTTP — ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB — ${r.options.connections} connections — ${r.startedAt.slice(0, 10)}`, [
      groupedBars({ title: 'Requests (pgbench: transactions) per second', unit: 'per second', rows: rps }),
      groupedBars({ title: 'Latency percentiles (ms, log scale)', unit: 'ms', rows: lat, log: true, logBase: 0.1, format: ',.3~r', seriesOrder: PERCENTILES }),
    ]),
  );
}

export const httpReport: Renderer<HttpBenchResults> = { chart: httpChart, markdown: httpMarkdown };
