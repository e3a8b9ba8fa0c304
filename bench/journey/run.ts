// The journey benchmark's run: a shop started on the local stack (npm start's launcher, rate limits off),
// products set up, a warm-up, the closed-loop and open-loop runs (each waits until order-query has settled
// every order it placed), the idle cost, then the shop stopped and the PostgreSQL-only ceiling measured.
// --profile runs one open-loop run instead, the services under the CPU profiler (bench/journey/profile.ts).
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra, type Infra, type Knex } from '@qtshop/shared/infra';
import { observeConsumerGroups } from '@qtshop/shared/delivery';
import { lagGroupsOf, loadRelayConfig } from '../../services/relay/src/config';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { componentPid, Launcher, servicePid, stackUp, type StackComponent } from '../../chaos/shop';
import { LoadWatch, machineInfo, processTreeCpuMs } from '../lib/machine';
import { pgbenchAvailable } from '../lib/pgbench';
import { Progress } from '../lib/progress';
import { recordedOptions, writeReport, type ReportFiles } from '../lib/report';
import { fmt, summarize } from '../lib/stats';
import { repoRoot } from '../../stack/config';
import { measureCeiling, prepareCeilingDbs } from './ceiling';
import { closedLoop, openLoop, setUpProducts, waitSettled, type Orders, type Products } from './load';
import type { JourneyBenchOptions } from './options';
import {
  monotonicUs,
  openPgWindow,
  profilingEnv,
  PROFILE_INTERVAL_US,
  readProfiles,
  type JourneyProfile,
  type PgProfile,
  type ProfiledProcess,
  type Window,
} from './profile';
import { evaluateJourneyTargets, journeyReport, type CpuShare, type JourneyBenchResults, type JourneyRow } from './report';

const COMPONENTS: StackComponent[] = ['postgres', 'kafka', 'connect', 'mongo'];
/** The bench's own process (the HTTP clients): its CPU from process.cpuUsage(), not /proc (its tree holds the shop). */
export const BENCH_CLIENT = 'bench client';

/** npm start's launcher itself: its tree less the services', which are its children (they write their log files themselves). */
export const LAUNCHER = 'launcher';

/** The shop's and the stack's processes, by name. */
const roots = (launcher: number | undefined): Record<string, number | undefined> => ({
  ...Object.fromEntries(COMPONENTS.map((c) => [c, componentPid(c)])),
  ...Object.fromEntries(SHOP_SERVICES.map((s) => [s, servicePid(s)])),
  [LAUNCHER]: launcher,
});

/** CPU used by each process tree (and the bench's own clients) between `start()` and `stop()`. */
async function cpuMeter(launcher: number | undefined) {
  const pids = roots(launcher);
  const own = (trees: Record<string, number>) => {
    if (trees[LAUNCHER] !== undefined) trees[LAUNCHER] -= SHOP_SERVICES.reduce((sum, s) => sum + (trees[s] ?? 0), 0);
    return trees;
  };
  const before = own(await processTreeCpuMs(pids));
  const self = process.cpuUsage();
  const t0 = Date.now();
  return async (): Promise<{ ms: Record<string, number>; elapsedMs: number }> => {
    const after = own(await processTreeCpuMs(pids));
    const mine = process.cpuUsage(self);
    const ms: Record<string, number> = {};
    for (const name of Object.keys(pids)) if (after[name] !== undefined && before[name] !== undefined) ms[name] = Math.max(0, after[name] - before[name]);
    ms[BENCH_CLIENT] = (mine.user + mine.system) / 1000;
    return { ms, elapsedMs: Date.now() - t0 };
  };
}

/** Waits until every consumer group of the shop (and the relay's confirmer) has read its topics to the end. */
async function waitCaughtUp(infra: Infra, timeoutMs: number): Promise<void> {
  const admin = createKafka(infra.kafka, 'bench-journey-lag').admin();
  await admin.connect();
  try {
    const groups = lagGroupsOf(loadRelayConfig());
    await waitUntil(async () => (await observeConsumerGroups(admin, groups)).every((g) => g.lag === 0), {
      timeoutMs,
      everyMs: 500,
      what: "the shop's consumers to catch up",
    });
  } finally {
    await admin.disconnect();
  }
}

const perOrder = (ms: Record<string, number>, orders: number): CpuShare =>
  Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, orders ? v / orders : Number.NaN]));

/** What a measured run needs of the benchmark: its options, the shop, order-query's database, its progress line. */
interface RunContext {
  o: JourneyBenchOptions;
  launcher: Launcher;
  queryDb: Knex;
  progress: Progress;
  say: (text: string) => void;
}

/**
 * Something measured over exactly a run (from before its first order to its last settlement): started, it
 * resolves with the function that ends it, given the orders the run placed.
 */
type Probe<T> = () => Promise<(orders: number) => Promise<T>>;

/**
 * One measured run: orders placed by `place`, settled in order-query, CPU by process over the run; the
 * row, and what `probe` measured over the same run.
 */
async function measureRun<T = undefined>(
  { o, launcher, queryDb, progress, say }: RunContext,
  run: { label: string; kind: JourneyRow['kind']; level: number; id: string },
  place: (run: string) => Promise<Orders>,
  probe?: Probe<T>,
): Promise<{ row: JourneyRow; probed: T | undefined }> {
  const { label, kind, level } = run;
  say(`${label}: placing orders for ${o.durationS} s`);
  const stopProbe = await probe?.();
  const stopCpu = await cpuMeter(launcher.pid);
  const orders = await place(`${run.id}-${kind}${level}`);
  say(`${label}: waiting for order-query to settle ${orders.placed.length} orders`);
  const settled = await waitSettled(queryDb, orders, o.settleS * 1000);
  const cpu = await stopCpu();
  const ok = orders.placed.filter((p) => p.orderId);
  const probed = await stopProbe?.(ok.length);
  const refused = orders.placed.filter((p) => p.status === 503 && p.code === 'overloaded');
  const first = Math.min(...orders.placed.map((p) => p.dueAt));
  const lastAnswer = Math.max(...orders.placed.map((p) => p.answeredAt));
  const settledN = settled.confirmed + settled.rejected;
  const row: JourneyRow = {
    kind,
    level,
    label,
    orders: ok.length,
    failed: orders.placed.length - ok.length - refused.length,
    refused: refused.length,
    refusedMs: summarize(refused.map((p) => p.answeredAt - p.dueAt)),
    placedPerSecond: (ok.length / (lastAnswer - first)) * 1000,
    confirmedPerSecond: settledN ? (settledN / (settled.lastSettledAt - first)) * 1000 : 0,
    confirmed: settled.confirmed,
    rejected: settled.rejected,
    pending: settled.pending,
    postMs: summarize(ok.map((p) => p.answeredAt - p.dueAt)),
    confirmMs: settled.latencyMs,
    cpuMsPerOrder: perOrder(cpu.ms, ok.length),
    coresUsed: Object.values(cpu.ms).reduce((a, b) => a + b, 0) / cpu.elapsedMs,
  };
  progress.note(
    `${label.padEnd(24)} ${fmt(row.placedPerSecond).padStart(6)} placed/s ${fmt(row.confirmedPerSecond).padStart(6)} confirmed/s  ` +
      `POST p50 ${fmt(row.postMs.p50)} p99 ${fmt(row.postMs.p99)} ms  → Confirmed p50 ${fmt(row.confirmMs.p50)} p90 ${fmt(row.confirmMs.p90)} p99 ${fmt(row.confirmMs.p99)} ms  ` +
      `${fmt(row.coresUsed, 2)} cores  failed ${row.failed} refused ${row.refused} (p99 ${fmt(row.refusedMs!.p99)} ms) pending ${row.pending}`,
  );
  return { row, probed };
}

/** The shop with nothing sent (after its consumers caught up and the load's after-effects settled): each process's CPU as % of one core. */
async function measureIdle({ o, launcher, progress, say }: RunContext, infra: Infra): Promise<NonNullable<JourneyBenchResults['idle']>> {
  say('waiting for every consumer to catch up before measuring the idle shop');
  await waitCaughtUp(infra, o.settleS * 1000);
  // The load's after-effects (checkpoints, autovacuum, log flushes) settle first.
  await new Promise((r) => setTimeout(r, Math.min(10, o.idleS) * 1000));
  say(`measuring the idle shop for ${o.idleS} s`);
  const stopCpu = await cpuMeter(launcher.pid);
  await new Promise((r) => setTimeout(r, o.idleS * 1000));
  const cpu = await stopCpu();
  delete cpu.ms[BENCH_CLIENT];
  const pctOfCore = Object.fromEntries(Object.entries(cpu.ms).map(([k, v]) => [k, (v / cpu.elapsedMs) * 100]));
  const idle = { seconds: cpu.elapsedMs / 1000, pctOfCore, totalPct: Object.values(pctOfCore).reduce((a, b) => a + b, 0) };
  progress.note(
    `idle: ${fmt(idle.totalPct)}% of one core (${Object.entries(pctOfCore)
      .map(([k, v]) => `${k} ${fmt(v)}%`)
      .join(', ')})`,
  );
  return idle;
}

/** The directory of each process's own code, relative to the repository (for its profile's places). */
const ownCode = (name: string) => (name === LAUNCHER ? 'scripts' : `services/${name}/src`);

export async function runJourneyBench(o: JourneyBenchOptions): Promise<{ results: JourneyBenchResults; files: ReportFiles }> {
  const started = new Date();
  const load = new LoadWatch();
  const t0 = Date.now();
  const infra = loadInfra();
  const progress = new Progress(o.progress);
  const rows: JourneyRow[] = [];
  const notes: string[] = [];
  const say = (text: string) => progress.update(`journey bench: ${text}`, true);
  const run = `journey-${randomUUID().slice(0, 8)}`;

  say('starting the local stack and the shop');
  await stackUp();
  // --profile: every Node process the launcher starts writes a CPU profile into this directory when it exits.
  const profiling = o.profile ? await profilingEnv() : undefined;
  const launcher = new Launcher({ RATE_LIMIT_ENABLED: 'false', ...profiling?.env });
  let ordersDb: Knex | undefined;
  let queryDb: Knex | undefined;
  let idle: JourneyBenchResults['idle'] = null;
  let profiled: { window: Window; pg: PgProfile; processes: ProfiledProcess[]; orders: number } | undefined;
  try {
    await launcher.start(300_000);
    ordersDb = createDb(infra, 'orders', { max: 1 });
    queryDb = createDb(infra, 'order_query', { max: 1 });
    say(`creating and stocking ${o.products} products`);
    const products = await setUpProducts(o.products, ordersDb);
    const ctx: RunContext = { o, launcher, queryDb, progress, say };
    const measure = async (label: string, kind: JourneyRow['kind'], level: number, place: (run: string) => Promise<Orders>) => {
      rows.push((await measureRun(ctx, { label, kind, level, id: run }, place)).row);
    };

    if (o.warmupS > 0) {
      say(`warming up for ${o.warmupS} s`);
      const warm = await closedLoop(`${run}-warmup`, 8, o.warmupS, products);
      await waitSettled(queryDb, warm, o.settleS * 1000);
    }
    if (o.profile) {
      const rate = o.rates[0]!;
      const postmaster = componentPid('postgres');
      if (!postmaster) throw new Error("--profile needs the local stack's PostgreSQL (its postmaster's pid): none found");
      const label = `open loop, ${rate} orders/s, profiled`;
      const { row, probed } = await measureRun(
        ctx,
        { label, kind: 'open', level: rate, id: run },
        (r) => openLoop(r, rate, o.durationS, products),
        async () => {
          const closePg = await openPgWindow(infra, postmaster);
          const fromUs = monotonicUs();
          return async (orders: number) => ({ window: { fromUs, toUs: monotonicUs() }, pg: await closePg(orders), orders });
        },
      );
      rows.push(row);
      // The pids that name the profiles, read while the processes run.
      const pids: Record<string, number | undefined> = { ...Object.fromEntries(SHOP_SERVICES.map((s) => [s, servicePid(s)])), [LAUNCHER]: launcher.pid };
      profiled = { ...probed!, processes: Object.entries(pids).flatMap(([process, pid]) => (pid ? [{ process, pid, own: ownCode(process) }] : [])) };
    } else {
      for (const clients of o.clients)
        await measure(`closed loop, ${clients} clients`, 'closed', clients, (r) => closedLoop(r, clients, o.durationS, products));
      for (const rate of o.rates) await measure(`open loop, ${rate} orders/s`, 'open', rate, (r) => openLoop(r, rate, o.durationS, products));
      const best = Math.max(0, ...rows.map((x) => x.confirmedPerSecond));
      if (o.overload > 0 && best > 0) {
        const rate = Math.round(best * o.overload);
        await measure(`overload, ${rate} orders/s (${o.overload}× ${fmt(best)})`, 'overload', rate, (r) => openLoop(r, rate, o.durationS, products));
      }
      if (o.idleS > 0) idle = await measureIdle(ctx, infra);
    }
  } finally {
    await ordersDb?.destroy();
    await queryDb?.destroy();
    say('stopping the shop');
    await launcher.stop();
  }

  let profile: JourneyProfile | undefined;
  if (profiled && profiling) {
    say('reading the CPU profiles');
    const { window, pg, orders } = profiled;
    const { profiles, missing } = await readProfiles(profiling.dir, profiled.processes, { root: repoRoot, window, orders });
    if (missing.length) notes.push(`No CPU profile from ${missing.join(', ')}: a process killed rather than stopped writes none.`);
    profile = { intervalUs: PROFILE_INTERVAL_US, window: { seconds: (window.toUs - window.fromUs) / 1e6 }, orders, pg, processes: profiles };
    progress.note(`the CPU profiles (.cpuprofile files: Chrome DevTools, Performance, opens them) are kept in ${profiling.dir}`);
  }

  let ceiling: JourneyBenchResults['ceiling'] = null;
  if (o.ceilingS > 0 && !o.profile) {
    if (!pgbenchAvailable()) notes.push('pgbench is not installed (Debian: postgresql-client): the ceiling was not measured.');
    else {
      say('preparing the ceiling databases');
      await prepareCeilingDbs(infra, o.db, o.products);
      ceiling = await measureCeiling(infra, { prefix: o.db, products: o.products, clients: o.ceilingClients, seconds: o.ceilingS }, (r) => {
        progress.note(`ceiling: ${r.database.padEnd(12)} ${fmt(r.ordersPerSecond)} orders/s of its statements`);
        say('measuring the ceiling');
      });
      progress.note(`ceiling: ${fmt(ceiling.ordersPerSecond)} orders/s if only PostgreSQL mattered`);
    }
  }
  progress.clear();

  const results: JourneyBenchResults = {
    name: o.name,
    startedAt: started.toISOString(),
    durationS: Math.round((Date.now() - t0) / 1000),
    command: o.command,
    machine: { ...machineInfo(), maxLoad: Math.round(load.stop() * 100) / 100 },
    options: recordedOptions(o),
    rows,
    idle,
    ceiling,
    targets: [],
    notes,
    ...(profile ? { profile } : {}),
  };
  // A profiled run's figures are the profiler's as much as the shop's: no target is judged on them.
  if (!profile) results.targets = evaluateJourneyTargets(results);
  const files = await writeReport(o.outDir, o.name, results, journeyReport);
  return { results, files };
}
