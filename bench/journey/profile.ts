// The journey's profile (--profile): where the CPU of one measured run goes. The services run under V8's
// sampling profiler (NODE_OPTIONS --cpu-prof, each process writing its .cpuprofile when it exits), and over
// exactly the measured run: PostgreSQL's backends' CPU (from /proc) by role, as pg_stat_activity names them,
// and PostgreSQL's statements (pg_stat_statements). The profiles are read once the shop has stopped, over the
// run's window only (their samples carry the monotonic clock's time).
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Infra } from '@qtshop/shared/infra';
import { childProcessesCpu, processTitle, type ChildCpu } from '../lib/machine';
import { profileFileOf, summarizeProfiles, type CpuProfile, type FunctionTime } from '../lib/cpuprofile';

/** The sampling interval, µs (V8's default is 1,000 as well; stated so that the results say it). */
export const PROFILE_INTERVAL_US = 1000;
/** Functions listed per process, by self time. */
export const TOP_FUNCTIONS = 12;
/** Statements listed, by total execution time. */
export const TOP_STATEMENTS = 20;

/** Now on the monotonic clock, µs: the clock of a .cpuprofile's times. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The window of a measured run on the monotonic clock (µs). */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** A fresh directory for the profiles, and the environment that makes every Node process the launcher starts write one there. */
export async function profilingEnv(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'qtshop-journey-cpuprof-'));
  const flags = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=${PROFILE_INTERVAL_US}`;
  return { dir, env: { NODE_OPTIONS: [process.env.NODE_OPTIONS, flags].filter(Boolean).join(' ') } };
}

/** PostgreSQL processes that ran through the whole window, grouped by backend type and role. */
export interface PgRoleCpu {
  /** pg_stat_activity's backend_type (client backend, walsender, checkpointer, …), or the process title of one it does not list. */
  backendType: string;
  /** pg_stat_activity's usename: the service's role (catalog, order_command, …; debezium's walsender); null for background processes. */
  role: string | null;
  processes: number;
  cpuMs: number;
  msPerOrder: number;
}

export interface PgStatement {
  database: string | null;
  role: string | null;
  calls: number;
  callsPerOrder: number;
  meanMs: number;
  totalMs: number;
  /** The normalized statement, whitespace collapsed, its first 120 characters. */
  query: string;
}

export interface PgProfile {
  roles: PgRoleCpu[];
  /** The postmaster's tree over the window: every backend, those that started or ended during it included. */
  totalMsPerOrder: number;
  /** What the groups do not hold: the postmaster and backends that started or ended during the window. */
  otherMsPerOrder: number;
  /** The role the benchmark itself logs in as (its settle checks and these measurements). */
  benchRole: string;
  statements: PgStatement[];
  /** Every statement pg_stat_statements tracked over the window. */
  statementsTotal: { calls: number; totalMs: number; callsPerOrder: number; msPerOrder: number };
}

export interface ProcessProfile {
  process: string;
  pid: number;
  /** Profiles read (one per thread). */
  threads: number;
  /**
   * Sampled time over the window, (idle) left out, ms and ms per order: the time its threads were not
   * waiting for events, including while they waited for a core (so above its CPU on a busy machine).
   */
  sampledMs: number;
  msPerOrder: number;
  /**
   * Self time by place (npm package, shared concern, own code, node: internals, GC, VM), ms per order, and
   * with the Node internals and native code each place called.
   */
  places: Array<{ place: string; msPerOrder: number; share: number; withCalledMsPerOrder: number; withCalledShare: number }>;
  functions: Array<Omit<FunctionTime, 'ms'> & { msPerOrder: number; share: number }>;
}

export interface JourneyProfile {
  intervalUs: number;
  window: { seconds: number };
  orders: number;
  pg: PgProfile;
  processes: ProcessProfile[];
}

interface Backend extends ChildCpu {
  backendType: string;
  role: string | null;
}

/**
 * Opens PostgreSQL's measurement of a window: pg_stat_statements (preloaded by the stack; the extension is
 * created in the postgres database, whose view shows every database's statements) reset, the postmaster's
 * children's CPU read. The function it resolves with closes the window, given the orders placed in it.
 */
export async function openPgWindow(infra: Infra, postmaster: number): Promise<(orders: number) => Promise<PgProfile>> {
  const admin = createDb(infra, 'postgres', { max: 1 }, 'bench-journey-profile');
  const backends = async (): Promise<{ byPid: Map<number, Backend>; treeMs: number }> => {
    const { rows } = await admin.raw<{ rows: Array<{ pid: number; backend_type: string; usename: string | null }> }>(
      'select pid, backend_type, usename from pg_stat_activity',
    );
    const activity = new Map(rows.map((r) => [r.pid, r]));
    const procs = await childProcessesCpu(postmaster);
    if (!procs) throw new Error(`the postmaster (pid ${postmaster}) is not running`);
    const byPid = new Map<number, Backend>();
    for (const c of procs.children) {
      const a = activity.get(c.pid);
      const backendType = a?.backend_type ?? ((await processTitle(c.pid)).replace(/^postgres:\s*/, '') || 'unknown');
      byPid.set(c.pid, { ...c, backendType, role: a?.usename ?? null });
    }
    return { byPid, treeMs: procs.treeMs };
  };
  let start: Awaited<ReturnType<typeof backends>>;
  try {
    await admin.raw('create extension if not exists pg_stat_statements');
    await admin.raw('select pg_stat_statements_reset()');
    start = await backends();
  } catch (err) {
    await admin.destroy();
    throw err;
  }
  return async (orders) => {
    try {
      const end = await backends();
      const groups = new Map<string, PgRoleCpu>();
      let grouped = 0;
      for (const [pid, b] of start.byPid) {
        const e = end.byPid.get(pid);
        if (!e || e.startTicks !== b.startTicks) continue;
        const ms = Math.max(0, e.ownMs - b.ownMs);
        grouped += ms;
        const key = `${b.backendType}\u0000${b.role ?? ''}`;
        const g = groups.get(key) ?? { backendType: b.backendType, role: b.role, processes: 0, cpuMs: 0, msPerOrder: 0 };
        g.processes++;
        g.cpuMs += ms;
        groups.set(key, g);
      }
      const per = (ms: number) => (orders ? ms / orders : Number.NaN);
      const roles = [...groups.values()].map((g) => ({ ...g, msPerOrder: per(g.cpuMs) })).sort((a, b) => b.cpuMs - a.cpuMs);
      const totalMs = Math.max(0, end.treeMs - start.treeMs);
      const { rows } = await admin.raw<{
        rows: Array<{ database: string | null; role: string | null; calls: string; mean_exec_time: number; total_exec_time: number; query: string }>;
      }>(
        `select d.datname as database, r.rolname as role, s.calls, s.mean_exec_time, s.total_exec_time, s.query
           from pg_stat_statements s left join pg_database d on d.oid = s.dbid left join pg_roles r on r.oid = s.userid
          order by s.total_exec_time desc limit ?`,
        [TOP_STATEMENTS],
      );
      const [all] = (
        await admin.raw<{ rows: Array<{ calls: string | null; total: number | null }> }>(
          'select sum(calls) as calls, sum(total_exec_time) as total from pg_stat_statements',
        )
      ).rows;
      const calls = Number(all?.calls ?? 0);
      const total = Number(all?.total ?? 0);
      return {
        roles,
        totalMsPerOrder: per(totalMs),
        otherMsPerOrder: per(Math.max(0, totalMs - grouped)),
        benchRole: infra.pg.user,
        statements: rows.map((r) => ({
          database: r.database,
          role: r.role,
          calls: Number(r.calls),
          callsPerOrder: per(Number(r.calls)),
          meanMs: Number(r.mean_exec_time),
          totalMs: Number(r.total_exec_time),
          query: r.query.replace(/\s+/g, ' ').trim().slice(0, 120),
        })),
        statementsTotal: { calls, totalMs: total, callsPerOrder: per(calls), msPerOrder: per(total) },
      };
    } finally {
      await admin.destroy();
    }
  };
}

/** A process whose profile is wanted: its name, pid, and the directory of its own code (relative to the repository). */
export interface ProfiledProcess {
  process: string;
  pid: number;
  own: string;
}

/**
 * Reads the profiles in `dir` of `processes` (the files name their pid; other processes' are left alone) and
 * sums up each over `window`; a process without a profile is named in `missing`.
 */
export async function readProfiles(
  dir: string,
  processes: ProfiledProcess[],
  o: { root: string; window: Window; orders: number },
): Promise<{ profiles: ProcessProfile[]; missing: string[] }> {
  const files = new Map<number, string[]>();
  for (const f of await readdir(dir)) {
    const id = profileFileOf(f);
    if (id) files.set(id.pid, [...(files.get(id.pid) ?? []), f]);
  }
  const profiles: ProcessProfile[] = [];
  const missing: string[] = [];
  const per = (ms: number) => (o.orders ? ms / o.orders : Number.NaN);
  for (const p of processes) {
    const mine = files.get(p.pid) ?? [];
    if (!mine.length) {
      missing.push(`${p.process} (pid ${p.pid})`);
      continue;
    }
    const read = await Promise.all(mine.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile));
    const s = summarizeProfiles(read, { root: o.root, own: p.own, window: o.window });
    const share = (ms: number) => (s.sampledMs ? ms / s.sampledMs : Number.NaN);
    profiles.push({
      process: p.process,
      pid: p.pid,
      threads: mine.length,
      sampledMs: s.sampledMs,
      msPerOrder: per(s.sampledMs),
      places: s.places.map((x) => ({
        place: x.place,
        msPerOrder: per(x.ms),
        share: share(x.ms),
        withCalledMsPerOrder: per(x.withCalledMs),
        withCalledShare: share(x.withCalledMs),
      })),
      functions: s.functions.slice(0, TOP_FUNCTIONS).map(({ ms, ...f }) => ({ ...f, msPerOrder: per(ms), share: share(ms) })),
    });
  }
  return { profiles: profiles.sort((a, b) => b.sampledMs - a.sampledMs), missing };
}
