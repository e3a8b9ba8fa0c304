// What a relay costs its database over one measured window: the CPU of the PostgreSQL backend serving it
// (from /proc) and, where the relay's statements are known, their calls and time from pg_stat_statements.
import type { Knex } from '@qtshop/shared/infra';
import { processCpuMs } from '../lib/machine';
import type { DbCost } from './results';
import { now } from './tracker';

/** Closes a window opened by a relay's cost probe: its database cost over the window, given the events it relayed. */
export type CloseCost = (events: number) => Promise<DbCost | null>;

export interface BackendWindow {
  t0: number;
  pid: number | undefined;
  cpu0: number | undefined;
}

/**
 * Opens a window on the backend `findPid` names, after resetting this database's pg_stat_statements.
 * `fresh`: the relay is about to be started, so its backend starts from zero (and is looked up at the end).
 */
export async function openWindow(meta: Knex, findPid: () => Promise<number | undefined>, fresh: boolean): Promise<BackendWindow> {
  await meta.raw('select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)').catch(() => undefined);
  if (fresh) return { t0: now(), pid: undefined, cpu0: 0 };
  const pid = await findPid();
  return { t0: now(), pid, cpu0: await processCpuMs(pid, 'postgres') };
}

export async function closeWindow(w: BackendWindow, findPid: () => Promise<number | undefined>, events: number) {
  const end = now();
  const pid = w.pid ?? (await findPid());
  const cpu1 = await processCpuMs(pid, 'postgres');
  const cpuMs = w.cpu0 !== undefined && cpu1 !== undefined ? cpu1 - w.cpu0 : undefined;
  return {
    end,
    seconds: (end - w.t0) / 1000,
    backendCpuPct: cpuMs !== undefined ? (cpuMs / (end - w.t0)) * 100 : null,
    backendCpuMsPer1k: cpuMs !== undefined && events > 0 ? (cpuMs / events) * 1000 : null,
  };
}

/** A cost without relay statements: the backend's CPU only. */
export const backendOnly = (c: { backendCpuPct: number | null; backendCpuMsPer1k: number | null }): DbCost => ({
  pollsPerS: 0,
  batchesPerS: 0,
  statementsPerS: 0,
  pgss: null,
  sqlMsPerS: null,
  backendCpuPct: c.backendCpuPct,
  backendCpuMsPer1k: c.backendCpuMsPer1k,
});

export interface StatementRow {
  query: string;
  calls: string;
  total_exec_time: number;
}

/** This database's pg_stat_statements; throws when the extension is unavailable. */
export async function statements(meta: Knex): Promise<StatementRow[]> {
  const { rows } = await meta.raw<{ rows: StatementRow[] }>(
    `select query, calls, total_exec_time from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
  );
  return rows;
}

export const calls = (rows: StatementRow[]) => rows.reduce((a, r) => a + Number(r.calls), 0);
export const execMs = (rows: StatementRow[]) => rows.reduce((a, r) => a + Number(r.total_exec_time), 0);

export async function cpuOfAll(pids: number[], expect: string): Promise<number | undefined> {
  const each = await Promise.all(pids.map((p) => processCpuMs(p, expect)));
  return each.some((c) => c === undefined) ? undefined : each.reduce<number>((a, c) => a + c!, 0);
}
