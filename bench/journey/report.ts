// The journey benchmark's results: targets, the markdown tables and the chart; those of a profiled run
// (--profile) have tables and a chart of their own.
import { groupedBars, renderSvg, stack, type BarRow } from '../lib/chart';
import type { MachineInfo } from '../lib/machine';
import { runLines, targetLines, type Renderer, type Target } from '../lib/report';
import { fmt, type LatencySummary } from '../lib/stats';
import type { Ceiling } from './ceiling';
import type { JourneyBenchOptions } from './options';
import type { JourneyProfile } from './profile';

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
  /** Requests that did not place an order (non-201 answers, network errors), order admission's refusals apart. */
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
  /** --profile: where the CPU of its one run went (its row is `rows`' only one). */
  profile?: JourneyProfile;
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
      detail: `${over.refused ?? 0} of ${over.orders + over.failed + (over.refused ?? 0)} refused, p99 ${fmt(refusedP99)} ms (${over.label})`,
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

/** The table of the runs' throughput and latency (one line per run). */
function rowTable(rows: JourneyRow[]): string[] {
  return [
    '| run | orders | placed/s | confirmed/s | POST p50 / p99 ms | → Confirmed p50 / p90 / p99 ms | failed | refused (503) p50 / p99 ms | rejected | pending | cores used |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (x) =>
        `| ${x.label} | ${x.orders} | ${fmt(x.placedPerSecond)} | ${fmt(x.confirmedPerSecond)} | ${fmt(x.postMs.p50)} / ${fmt(x.postMs.p99)} | ` +
        `${fmt(x.confirmMs.p50)} / ${fmt(x.confirmMs.p90)} / ${fmt(x.confirmMs.p99)} | ${x.failed} | ` +
        `${x.refused ? `${x.refused}: ${fmt(x.refusedMs!.p50)} / ${fmt(x.refusedMs!.p99)}` : (x.refused ?? '—')} | ${x.rejected} | ${x.pending} | ${fmt(x.coresUsed, 2)} |`,
    ),
    '',
  ];
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
    ...rowTable(r.rows),
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

/** Places listed per process; the rest are summed in one line. */
const TOP_PLACES = 10;
const pct = (share: number) => `${fmt(share * 100)}%`;
/** Text in a table cell, as code: pipes escaped, backticks (which would end it) replaced. */
const cell = (text: string) => `\`${text.replaceAll('`', "'").replaceAll('|', '\\|')}\``;

/** The markdown of a profiled run (--profile): its row, CPU by process, PostgreSQL by role and statement, each service's profile. */
export function profileMarkdown(r: JourneyBenchResults, svgName: string): string {
  const p = r.profile!;
  const o = r.options;
  const row = r.rows[0];
  const profiled = new Map(p.processes.map((x) => [x.process, x]));
  const procs = row ? Object.entries(row.cpuMsPerOrder).sort((a, b) => b[1] - a[1]) : [];
  const lines = [
    `# Order journey benchmark, profiled: ${r.name}`,
    '',
    ...runLines(r),
    `One open-loop run (Poisson arrivals, each order timed from when it was due; orders of one line out of ${o.products} products) for ${o.durationS} s, ` +
      `after ${o.warmupS} s of warm-up, on a shop started by \`npm start\`'s launcher (rate limits off) whose Node processes run under V8's sampling ` +
      `profiler (\`--cpu-prof\`, a sample every ${p.intervalUs / 1000} ms). Over exactly that run (${fmt(p.window.seconds)} s, from before its first order ` +
      `to its last settlement, ${p.orders} orders) the benchmark reads each process's CPU from /proc, PostgreSQL's backends' CPU by role and its statements ` +
      '(pg_stat_statements), and the samples of each profile. Profiling slows the services: these figures say where the time goes, not what the shop ' +
      'does unprofiled (`npm run bench -- journey` measures that); no target is judged on them.',
    '',
    `![CPU per order by process and by PostgreSQL role](${svgName})`,
    '',
    ...rowTable(r.rows),
    '## CPU per order (ms) by process',
    '',
    "/proc: the process's CPU and its children's (as in the benchmark's runs). Profiled: the time its Node threads were sampled outside " +
      '(idle), that is with the event loop not waiting for events: running JavaScript, the native code it called, garbage collection or the VM, ' +
      'or waiting for a core meanwhile. On a busy machine that is more than its CPU; the shares below are the figures to compare ' +
      '(a thread waiting for a core waits wherever it was, so the waits spread like the work).',
    '',
    '| process | /proc | profiled |',
    '|---|---:|---:|',
    ...procs.map(([name, ms]) => `| ${name} | ${fmt(ms)} | ${fmt(profiled.get(name)?.msPerOrder)} |`),
    `| **total** | **${fmt(procs.reduce((a, [, ms]) => a + ms, 0))}** | |`,
    '',
  ];
  const pg = p.pg;
  const roles = pg.roles.filter((g) => g.cpuMs > 0);
  const share = (ms: number) => pct(ms / pg.totalMsPerOrder);
  const role = (name: string | null) => (name === null ? '' : name === pg.benchRole ? `${name} (the benchmark)` : name);
  lines.push(
    '## PostgreSQL CPU per order (ms) by role',
    '',
    "The backends alive through the whole run, each one's own CPU (utime + stime) grouped by pg_stat_activity's backend type and user " +
      `(each service logs in as its own role; walsenders stream to Debezium)${pg.roles.length > roles.length ? `; ${pg.roles.length - roles.length} groups used no CPU` : ''}.`,
    '',
    '| backend | role | processes | ms per order | share |',
    '|---|---|---:|---:|---:|',
    ...roles.map((g) => `| ${g.backendType} | ${role(g.role)} | ${g.processes} | ${fmt(g.msPerOrder)} | ${share(g.msPerOrder)} |`),
    `| the postmaster, backends started or ended during the run | | | ${fmt(pg.otherMsPerOrder)} | ${share(pg.otherMsPerOrder)} |`,
    `| **all of PostgreSQL** | | | **${fmt(pg.totalMsPerOrder)}** | |`,
    '',
    `## PostgreSQL's top statements`,
    '',
    `pg_stat_statements over the run, every database: ${fmt(pg.statementsTotal.callsPerOrder)} statements and ${fmt(pg.statementsTotal.msPerOrder)} ms of ` +
      `execution per order in all; the ${pg.statements.length} that took longest. Execution time is not CPU: waits for locks and I/O count in it.`,
    '',
    '| database | role | calls per order | mean ms | total ms | statement |',
    '|---|---|---:|---:|---:|---|',
    ...pg.statements.map(
      (x) => `| ${x.database ?? ''} | ${role(x.role)} | ${fmt(x.callsPerOrder, 2)} | ${fmt(x.meanMs, 3)} | ${fmt(x.totalMs)} | ${cell(x.query)} |`,
    ),
    '',
    "## Each process's profile",
    '',
    'Sampled time per order (ms) over the run by where the code lives (an npm package, a shared concern under services/shared/src, ' +
      "the process's own code, Node's internals, garbage collection, (program): the VM itself): its own (self), and with the Node internals " +
      'and native code it called (a socket write pg asks for counts for pg there; ' +
      "Node's internals keep only what no code outside them called: the event loop's own work); then by function, with the code outside Node that led " +
      'to it (from). Native code (a binding such as writev) counts for the code that called it. Lines are those of the JavaScript that ran ' +
      "(tsx's, for TypeScript).",
    '',
  );
  for (const x of p.processes) {
    // The places with the most self time, and those that called for the most (pg, whose socket writes are Node's).
    const shown = new Set([
      ...x.places.slice(0, TOP_PLACES).map((y) => y.place),
      ...[...x.places]
        .sort((a, b) => b.withCalledMsPerOrder - a.withCalledMsPerOrder)
        .slice(0, TOP_PLACES / 2)
        .map((y) => y.place),
    ]);
    const rest = x.places.filter((y) => !shown.has(y.place));
    const sum = (k: 'msPerOrder' | 'withCalledMsPerOrder') => rest.reduce((a, y) => a + y[k], 0);
    lines.push(
      `### ${x.process}: ${fmt(x.msPerOrder)} ms per order sampled`,
      '',
      '| where | self ms per order | share | with what it called | share |',
      '|---|---:|---:|---:|---:|',
      ...x.places
        .filter((y) => shown.has(y.place))
        .map((y) => `| ${y.place} | ${fmt(y.msPerOrder, 2)} | ${pct(y.share)} | ${fmt(y.withCalledMsPerOrder, 2)} | ${pct(y.withCalledShare)} |`),
      ...(rest.length
        ? [
            `| ${rest.length} more | ${fmt(sum('msPerOrder'), 2)} | ${pct(sum('msPerOrder') / x.msPerOrder)} | ` +
              `${fmt(sum('withCalledMsPerOrder'), 2)} | ${pct(sum('withCalledMsPerOrder') / x.msPerOrder)} |`,
          ]
        : []),
      '',
      '| function | where | from | self ms per order | share |',
      '|---|---|---|---:|---:|',
      ...x.functions.map(
        (f) => `| ${cell(f.name)} | ${f.location ? cell(f.location) : f.place} | ${f.via ?? ''} | ${fmt(f.msPerOrder, 2)} | ${pct(f.share)} |`,
      ),
      '',
    );
  }
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

/** The chart of a profiled run: CPU per order by process (/proc and profiled), and PostgreSQL's by role. */
export async function profileChart(r: JourneyBenchResults): Promise<string> {
  const p = r.profile!;
  const profiled = new Map(p.processes.map((x) => [x.process, x.msPerOrder]));
  const procs = Object.entries(r.rows[0]?.cpuMsPerOrder ?? {}).sort((a, b) => b[1] - a[1]);
  const byProcess: BarRow[] = procs.flatMap(([label, ms]) => [
    { label, series: '/proc', value: ms },
    ...(profiled.has(label) ? [{ label, series: 'profiled', value: profiled.get(label)! }] : []),
  ]);
  const role = (g: JourneyProfile['pg']['roles'][number]) => (g.role ? `${g.backendType} (${g.role})` : g.backendType);
  const byRole: BarRow[] = p.pg.roles
    .filter((g) => g.cpuMs > 0)
    .slice(0, 12)
    .map((g) => ({ label: role(g), series: 'ms per order', value: g.msPerOrder }));
  return renderSvg(
    stack(`Order journey profile — ${r.rows[0]?.label ?? ''} — ${r.machine.cores} cores — ${r.startedAt.slice(0, 10)}`, [
      groupedBars({ title: 'CPU per order by process', unit: 'ms per order', rows: byProcess, seriesOrder: ['/proc', 'profiled'], format: ',.2f' }),
      groupedBars({ title: 'PostgreSQL CPU per order by role', unit: 'ms per order', rows: byRole, format: ',.2f' }),
    ]),
  );
}

/** A journey benchmark's results, profiled (--profile) or not. */
export const journeyReport: Renderer<JourneyBenchResults> = {
  chart: (r) => (r.profile ? profileChart(r) : journeyChart(r)),
  markdown: (r, svgName) => (r.profile ? profileMarkdown(r, svgName) : journeyMarkdown(r, svgName)),
};
