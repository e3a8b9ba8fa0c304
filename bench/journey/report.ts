// The journey benchmark's results: targets, the markdown tables and the chart.
import { groupedBars, renderSvg, stack, type BarRow } from '../lib/chart';
import type { MachineInfo } from '../lib/machine';
import { runLines, targetLines, type Renderer, type Target } from '../lib/report';
import { fmt, type LatencySummary } from '../lib/stats';
import type { Ceiling } from './ceiling';
import type { JourneyBenchOptions } from './options';

/** CPU ms per order (runs) by process. */
export type CpuShare = Record<string, number>;

export interface JourneyRow {
  /** overload: an open loop at `overload` times the best confirmed rate of the runs before it. */
  kind: 'closed' | 'open' | 'overload';
  /** Clients (closed loop) or orders/s offered (open loop). */
  level: number;
  label: string;
  /** Orders placed (201). */
  orders: number;
  /** Requests that did not place an order (non-201 answers, network errors), refusals included. */
  failed: number;
  /** 503 `overloaded` answers (order admission), and how long each took from when it was due. */
  refused?: number;
  refusedMs?: LatencySummary;
  placedPerSecond: number;
  /** Orders confirmed or rejected in order-query per second, from the first order sent to the last settled. */
  confirmedPerSecond: number;
  confirmed: number;
  rejected: number;
  /** Placed orders still Pending when the settle wait gave up. */
  pending: number;
  /** POST /orders: due (open loop) or sent → answered. */
  postMs: LatencySummary;
  /** Due or sent → Confirmed in order-query (its row's updated_at). */
  confirmMs: LatencySummary;
  cpuMsPerOrder: CpuShare;
  /** CPU of every measured process over the run's wall time, in cores. */
  coresUsed: number;
}

export interface JourneyBenchResults {
  name: string;
  startedAt: string;
  durationS: number;
  command: string;
  machine: MachineInfo;
  options: Omit<JourneyBenchOptions, 'outDir' | 'progress' | 'command'>;
  rows: JourneyRow[];
  /** The shop running with nothing sent: each process's CPU as % of one core. */
  idle: { seconds: number; pctOfCore: Record<string, number>; totalPct: number } | null;
  ceiling: Ceiling | null;
  targets: Target[];
  notes: string[];
}

export function evaluateJourneyTargets(r: JourneyBenchResults): Target[] {
  const out: Target[] = [];
  const best = [...r.rows].sort((a, b) => b.confirmedPerSecond - a.confirmedPerSecond)[0];
  if (best) {
    out.push({
      target: '≥ 250 orders/s confirmed end to end',
      met: best.confirmedPerSecond >= 250,
      detail: `${fmt(best.confirmedPerSecond)} orders/s (${best.label})`,
    });
    if (r.ceiling) {
      const share = best.confirmedPerSecond / r.ceiling.ordersPerSecond;
      out.push({
        target: '≥ 70% of the PostgreSQL-only ceiling',
        met: share >= 0.7,
        detail: `${fmt(best.confirmedPerSecond)} of ${fmt(r.ceiling.ordersPerSecond)} orders/s (${fmt(share * 100)}%)`,
      });
    } else out.push({ target: '≥ 70% of the PostgreSQL-only ceiling', met: null, detail: 'the ceiling was not measured' });
  }
  const at100 = r.rows.find((x) => x.kind === 'open' && x.level === 100);
  if (at100)
    out.push({ target: 'p99 POST → Confirmed < 300 ms at 100 orders/s', met: at100.confirmMs.p99 < 300, detail: `p99 ${fmt(at100.confirmMs.p99)} ms` });
  const over = r.rows.find((x) => x.kind === 'overload');
  if (over) {
    const refusedP99 = over.refusedMs?.p99 ?? Number.NaN;
    out.push({
      target: 'overload: the excess refused (503 overloaded) within 50 ms',
      met: (over.refused ?? 0) > 0 && refusedP99 < 50,
      detail: `${over.refused ?? 0} of ${over.orders + over.failed} refused, p99 ${fmt(refusedP99)} ms (${over.label})`,
    });
    out.push({
      target: 'overload: accepted orders p99 POST → Confirmed < 2 s',
      met: over.pending === 0 && over.confirmMs.p99 < 2000,
      detail: `p99 ${fmt(over.confirmMs.p99)} ms, ${over.pending} pending`,
    });
  }
  if (r.idle) out.push({ target: 'idle shop (stack + services) < 10% of one core', met: r.idle.totalPct < 10, detail: `${fmt(r.idle.totalPct)}%` });
  return out;
}

const processes = (r: JourneyBenchResults) => [...new Set(r.rows.flatMap((x) => Object.keys(x.cpuMsPerOrder)))];

export function journeyMarkdown(r: JourneyBenchResults, svgName: string): string {
  const o = r.options;
  const procs = processes(r);
  const lines = [
    `# Order journey benchmark: ${r.name}`,
    '',
    ...runLines(r),
    `A shop started by \`npm start\`'s launcher on the local stack (relay mode as configured, rate limits off) takes orders of one line ` +
      `(quantity 1, one of ${o.products} products, a shopper's JWT and an Idempotency-Key) for ${o.durationS} s per run, after ${o.warmupS} s of warm-up. ` +
      'Closed loop: N clients, each sending its next order when the last one answered. Open loop: Poisson arrivals at the rate, ' +
      "each order timed from when it was due. An order is settled when order-query has it Confirmed (or Rejected); its time is the row's updated_at. " +
      'Confirmed/s counts from the first order sent to the last one settled. CPU comes from /proc for each process and its children. ' +
      `The overload run offers ${o.overload ?? 0} times the best confirmed rate of the runs before it (0: not run): refused (503) counts the answers ` +
      'of order admission (503 overloaded), timed from when each order was due; → Confirmed is over the accepted orders.',
    '',
    `![throughput and latency per run](${svgName})`,
    '',
    '| run | orders | placed/s | confirmed/s | POST p50 / p99 ms | → Confirmed p50 / p90 / p99 ms | failed | refused (503) p50 / p99 ms | rejected | pending | cores used |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (x) =>
        `| ${x.label} | ${x.orders} | ${fmt(x.placedPerSecond)} | ${fmt(x.confirmedPerSecond)} | ${fmt(x.postMs.p50)} / ${fmt(x.postMs.p99)} | ` +
        `${fmt(x.confirmMs.p50)} / ${fmt(x.confirmMs.p90)} / ${fmt(x.confirmMs.p99)} | ${x.failed} | ` +
        `${x.refused ? `${x.refused}: ${fmt(x.refusedMs!.p50)} / ${fmt(x.refusedMs!.p99)}` : (x.refused ?? '—')} | ${x.rejected} | ${x.pending} | ${fmt(x.coresUsed, 2)} |`,
    ),
    '',
    '## CPU per order (ms) by process',
    '',
    `| run | ${procs.join(' | ')} | total |`,
    `|---|${procs.map(() => '---:').join('|')}|---:|`,
    ...r.rows.map(
      (x) => `| ${x.label} | ${procs.map((p) => fmt(x.cpuMsPerOrder[p])).join(' | ')} | ${fmt(Object.values(x.cpuMsPerOrder).reduce((a, b) => a + b, 0))} |`,
    ),
    '',
  ];
  if (r.ceiling) {
    lines.push(
      '## Ceiling: PostgreSQL alone',
      '',
      `pgbench runs one order's statements of each service database (bench/pgbench/journey-<db>.sql), each database alone for ${r.ceiling.seconds} s ` +
        `with ${r.ceiling.clients} clients and the shop stopped; an order needs all four, so the ceiling is 1 / Σ (1 / rate).`,
      '',
      '| database | orders/s of its statements |',
      '|---|---:|',
      ...r.ceiling.rows.map((c) => `| ${c.database} | ${fmt(c.ordersPerSecond)} |`),
      `| **all four (ceiling)** | **${fmt(r.ceiling.ordersPerSecond)}** |`,
      '',
    );
  }
  if (r.idle) {
    const idle = r.idle;
    lines.push(
      '## Idle cost',
      '',
      `The shop and the stack running for ${fmt(idle.seconds)} s with nothing sent: ${fmt(idle.totalPct)}% of one core.`,
      '',
      `| ${Object.keys(idle.pctOfCore).join(' | ')} |`,
      `|${Object.keys(idle.pctOfCore)
        .map(() => '---:')
        .join('|')}|`,
      `| ${Object.values(idle.pctOfCore)
        .map((v) => `${fmt(v)}%`)
        .join(' | ')} |`,
      '',
    );
  }
  lines.push(...targetLines(r.targets));
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export async function journeyChart(r: JourneyBenchResults): Promise<string> {
  const rate: BarRow[] = r.rows.flatMap((x) => [
    { label: x.label, series: 'placed/s', value: x.placedPerSecond },
    { label: x.label, series: 'confirmed/s', value: x.confirmedPerSecond },
  ]);
  if (r.ceiling) rate.push({ label: 'ceiling: PostgreSQL alone', series: 'confirmed/s', value: r.ceiling.ordersPerSecond });
  const lat: BarRow[] = r.rows.flatMap((x) => (['p50', 'p90', 'p99'] as const).map((p) => ({ label: x.label, series: p, value: x.confirmMs[p] })));
  return renderSvg(
    stack(`Order journey — ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB — ${r.startedAt.slice(0, 10)}`, [
      groupedBars({ title: 'Orders per second', unit: 'orders/s', rows: rate, seriesOrder: ['placed/s', 'confirmed/s'] }),
      groupedBars({
        title: 'POST /orders → Confirmed in order-query (ms, log scale)',
        unit: 'ms',
        rows: lat,
        log: true,
        logBase: 1,
        seriesOrder: ['p50', 'p90', 'p99'],
      }),
    ]),
  );
}

export const journeyReport: Renderer<JourneyBenchResults> = { chart: journeyChart, markdown: journeyMarkdown };
