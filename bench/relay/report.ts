// The relay benchmark's results: the targets, the markdown tables and the chart.
import { groupedBars, renderSvg, stack, type BarRow } from '../lib/chart';
import { runLines, targetLines, type Renderer, type Target } from '../lib/report';
import { fmt } from '../lib/stats';
import type { RelayBenchOptions } from './options';
import { RELAYS } from './relays';
import type { RelayBenchResults, RunResult } from './results';

export function evaluateTargets(runs: RunResult[], o: Pick<RelayBenchOptions, 'rates' | 'debeziumVariants'>): Target[] {
  const out: Target[] = [];
  const top = Math.max(...o.rates);
  const at1000 = o.rates.includes(1000) ? 1000 : top;
  for (const variant of o.debeziumVariants) {
    const r = runs.find((x) => x.relay === 'debezium' && x.variant === variant && x.mode === 'steady' && x.rate === at1000);
    if (r) out.push({ target: `Debezium (${variant}) p99 < 150 ms at ${at1000} ev/s`, met: r.latencyMs.p99 < 150, detail: `p99 ${fmt(r.latencyMs.p99)} ms` });
  }
  const lost = runs.filter((r) => r.lost > 0);
  const lostDetail = lost.length ? lost.map((r) => `${r.scenario}: ${r.lost}`).join('; ') : `${runs.length} runs, 0 lost`;
  out.push({ target: 'zero lost in every scenario', met: lost.length === 0, detail: lostDetail });
  const dups = runs.reduce((a, r) => a + r.duplicated, 0);
  out.push({ target: 'duplicates reported', met: null, detail: `${dups} duplicate record(s) in all runs` });
  for (const r of runs.filter((x) => x.relay === 'polling' && x.variant === '3000 ms' && x.mode === 'steady')) {
    const ratio = r.latencyMs.mean / 1500;
    out.push({
      target: `polling 3000 ms mean near half the interval (1500 ms) at ${r.rate} ev/s`,
      met: ratio > 0.8 && ratio < 1.25,
      detail: `mean ${fmt(r.latencyMs.mean)} ms (${fmt(ratio * 100)}% of 1500)`,
    });
  }
  const base = runs.find((x) => x.relay === 'baseline' && x.mode === 'drain');
  const p100 = runs.find((x) => x.relay === 'polling' && x.variant === '100 ms' && x.mode === 'drain');
  if (base && p100) {
    const ratio = p100.throughput / base.throughput;
    const detail = `${fmt(p100.throughput)} vs ${fmt(base.throughput)} ev/s (${fmt(ratio * 100)}%)`;
    out.push({ target: 'polling 100 ms drains at ≥ 50% of the baseline rate', met: ratio >= 0.5, detail });
  }
  return out;
}

const opt = (v: number | null | undefined, digits?: number) => (v == null ? '–' : fmt(v, digits));

function setupLine(r: RelayBenchResults): string {
  const o = r.options;
  const writer =
    o.writer === 'pgbench'
      ? `written by pgbench (bench/pgbench/outbox-event.sql: one outbox INSERT per transaction, -R rate, Poisson arrivals, ` +
        `${o.concurrency} connections; the baseline, which has no outbox, sends from Node)`
      : `written through the shared outbox writer (knex), ${o.perTx} event(s) per transaction, up to ${o.concurrency} transactions at once`;
  return (
    `Events: ProductUpdated, payload ≈ ${o.payloadBytes} B, ${writer}; ` +
    `steady rates ${o.rates.join(', ')} ev/s for ${o.durationS} s each (open loop); ` +
    `drain: ${o.backlog.toLocaleString('en-US')} events written (${o.backlogPerTx} per transaction) while the relay is stopped, then drained. ` +
    `Topic ${r.topic} (3 partitions), one kafkajs consumer matching records by the id header. Warm-up: ${o.warmup} events per relay, not counted.`
  );
}

function runRow(x: RunResult): string {
  const l = x.latencyMs;
  const d = x.db;
  const polls = RELAYS[x.relay].polls;
  const relayCells = [d && polls ? fmt(d.pollsPerS) : '–', d && polls ? fmt(d.statementsPerS) : '–', d?.sqlMsPerS != null && polls ? fmt(d.sqlMsPerS, 2) : '–'];
  const cells = [x.scenario, x.sent, x.received, x.lost, x.duplicated, ...[l.p50, l.p90, l.p99, l.max, l.mean, x.writeRate, x.throughput].map((v) => fmt(v))];
  return `| ${[...cells, ...relayCells, opt(d?.backendCpuPct), opt(d?.backendCpuMsPer1k)].join(' | ')} |`;
}

const RUNS_HEAD = [
  '| scenario | sent | received | lost | dup | p50 ms | p90 ms | p99 ms | max ms | mean ms | written ev/s | throughput ev/s ' +
    '| relay polls/s | relay stmts/s | relay SQL ms/s | db backend CPU % | db CPU ms per 1k events |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

function confirmLines(r: RelayBenchResults): string[] {
  const confirmed = r.runs.filter((x) => x.db?.confirm);
  if (confirmed.length === 0) return [];
  return [
    '',
    '### Cost of delivery confirmation (Debezium runs)',
    '',
    'In debezium mode the relay reads the outbox topic with its own consumer group and marks each row whose record it sees ' +
      '(one statement per fetched batch: lock the rows seen, confirm those on their own topic, flag the misrouted). The runs above had it running beside the connector, in a process of its own; ' +
      'its latency is included in theirs. Its cost over each run:',
    '',
    '| scenario | confirm stmts/s | confirm SQL ms/s | confirmer process CPU % | its db backends CPU % |',
    '|---|---:|---:|---:|---:|',
    ...confirmed.map((x) => {
      const c = x.db!.confirm!;
      return `| ${x.scenario} | ${opt(c.statementsPerS)} | ${opt(c.sqlMsPerS, 2)} | ${opt(c.processCpuPct)} | ${opt(c.backendCpuPct)} |`;
    }),
  ];
}

const MEASURES =
  'Written: events/s the writer achieved (the target is the rate in the scenario name). ' +
  "Latency: steady runs, commit of the writer transaction → the consumer's batch callback (same process, monotonic clock); " +
  "with the pgbench writer, from the row's created_at (its transaction's start, so the insert and commit are included; carried in the " +
  "record's createdAt header by both relays) → the consumer's batch callback (the same machine's clock). " +
  'drains, relay start/resume → consumer. ' +
  'Throughput: steady, received / (last receipt − first commit); drain, backlog / (last receipt − relay start). ' +
  'Relay statements/s: BEGIN, SELECT … FOR UPDATE and COMMIT per poll plus one UPDATE per non-empty batch (relay counters); ' +
  'SQL ms/s: execution time of its SELECT and UPDATE from pg_stat_statements. ' +
  'db backend CPU: the PostgreSQL process serving the relay (the polling connection, or the walsender that decodes WAL for Debezium), ' +
  '% of one core over the run and ms per 1,000 events, from /proc (10 ms ticks). ' +
  'Not in it: for polling, the extra WAL and dead tuples of its UPDATE (vacuum); ' +
  'for Debezium, nothing is left behind, but its walsender reads the WAL of the whole cluster, other databases included.';

const DRAINS =
  'Drains start the relay on a backlog: the polling relay is created and started, the Debezium connector (stopped while the backlog was written, ' +
  'its replication connection closed) is resumed, the baseline producer starts sending. "From relay start" includes the relay\'s start-up ' +
  '(for Debezium the task restart and replication reconnect), "from first record" is the rate once records flow.';

function drainLines(r: RelayBenchResults): string[] {
  const drains = r.runs.filter((x) => x.mode === 'drain');
  if (!drains.length) return [];
  const row = (x: RunResult) => {
    const written = RELAYS[x.relay].backlogInOutbox ? fmt(x.writeRate) : '–';
    return `| ${x.scenario} | ${written} | ${fmt(x.firstRecordMs)} | ${fmt(x.drainMs)} | ${fmt(x.throughput)} | ${fmt(x.streamRate)} |`;
  };
  return [
    '| drain | backlog written at ev/s | first record after ms | drained in ms | ev/s from relay start | ev/s from first record |',
    '|---|---:|---:|---:|---:|---:|',
    ...drains.map(row),
    '',
    DRAINS,
    '',
  ];
}

function noteLines(r: RelayBenchResults): string[] {
  if (!r.notes.length && !r.foreign) return [];
  const foreign = r.foreign ? [`- ${r.foreign} record(s) on the topic matched no event of this run.`] : [];
  return ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ...foreign, ''];
}

export function relayMarkdown(r: RelayBenchResults, svgName: string): string {
  return [
    `# Relay benchmark: ${r.name}`,
    '',
    ...runLines(r),
    setupLine(r),
    '',
    `![latency and throughput per scenario](${svgName})`,
    '',
    ...RUNS_HEAD,
    ...r.runs.map(runRow),
    ...confirmLines(r),
    '',
    MEASURES,
    '',
    ...drainLines(r),
    ...targetLines(r.targets),
    ...Object.values(RELAYS).flatMap((relay) => relay.reportLines?.(r) ?? []),
    ...noteLines(r),
  ].join('\n');
}

export async function relayChart(r: RelayBenchResults): Promise<string> {
  const lat: BarRow[] = [];
  for (const x of r.runs.filter((y) => y.mode === 'steady')) {
    for (const p of ['p50', 'p90', 'p99'] as const) lat.push({ label: x.scenario, series: p, value: x.latencyMs[p] });
  }
  // Steady runs deliver what they are offered (the rate in their name); the drains show what each relay can do.
  const thr: BarRow[] = r.runs.filter((x) => x.mode === 'drain').map((x) => ({ label: x.scenario, series: 'drain', value: x.throughput }));
  const latency = { title: 'Commit → consumer latency per steady scenario (ms, log scale)', unit: 'ms', rows: lat, log: true, format: ',.3~r' };
  const charts = [groupedBars({ ...latency, seriesOrder: ['p50', 'p90', 'p99'] })];
  const backlog = r.options.backlog.toLocaleString('en-US');
  if (thr.length) charts.push(groupedBars({ title: `Drain throughput: ${backlog}-event backlog (received events/s)`, unit: 'events/s', rows: thr }));
  return renderSvg(stack(`Outbox relays — ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB — ${r.startedAt.slice(0, 10)}`, charts));
}

export const relayReport: Renderer<RelayBenchResults> = { chart: relayChart, markdown: relayMarkdown };
