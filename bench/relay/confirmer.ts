// The relay's delivery confirmer beside Debezium, as in production, in a process of its own
// (bench/lib/confirmer-process.ts), and what it costs: its statements, its CPU and its backends' CPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GiveUp, waitUntil } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { RELAY_POOL_APPLICATION_NAME } from '../../services/relay/src/relay';
import { processCpuMs } from '../lib/machine';
import { cpuOfAll, calls, execMs, statements } from './cost';
import type { ConfirmCost } from './results';
import { now } from './tracker';

const SCRIPT = fileURLToPath(new URL('../lib/confirmer-process.ts', import.meta.url));

export interface Confirmer {
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts the confirmer on `db`'s outbox and `topic`; resolves once its consumer runs. */
export async function startConfirmer(db: string, topic: string): Promise<Confirmer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SCRIPT, db, topic, `bench-confirm-${randomUUID()}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const confirmer = {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`the confirmer exited: ${out}`);
        return out.includes('confirming');
      },
      { timeoutMs: 60_000, what: 'the confirmer to start' },
    );
  } catch (err) {
    await confirmer.stop();
    throw err;
  }
  return confirmer;
}

async function confirmBackendPids(meta: Knex, db: string): Promise<number[]> {
  const rows = await meta('pg_stat_activity').where({ datname: db, application_name: RELAY_POOL_APPLICATION_NAME }).select<Array<{ pid: number }>>('pid');
  return rows.map((r) => r.pid);
}

/** Opens a window on the confirmer's cost; the returned function closes it at `end`. */
export async function confirmCost(meta: Knex, db: string, pid: number | undefined): Promise<(end: number) => Promise<ConfirmCost | null>> {
  if (pid === undefined) return async () => null;
  const backendPids = await confirmBackendPids(meta, db);
  const t0 = now();
  const cpu0 = await processCpuMs(pid, 'confirmer-process');
  const backendCpu0 = await cpuOfAll(backendPids, 'postgres');
  return async (end) => {
    const ms = end - t0;
    const pct = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? ((b - a) / ms) * 100 : null);
    let stmts: number | null = null;
    let sqlMs: number | null = null;
    try {
      // The confirmer's one statement per fetched batch (services/relay/src/confirmer.ts CONFIRM).
      const isConfirm = (q: string) => /^with sighted as/i.test(q.trim());
      const mine = (await statements(meta)).filter((r) => isConfirm(r.query));
      stmts = calls(mine);
      sqlMs = execMs(mine);
    } catch {
      /* pg_stat_statements unavailable */
    }
    return {
      statementsPerS: stmts === null ? null : stmts / (ms / 1000),
      sqlMsPerS: sqlMs === null ? null : sqlMs / (ms / 1000),
      processCpuPct: pct(cpu0, await processCpuMs(pid, 'confirmer-process')),
      backendCpuPct: pct(backendCpu0, await cpuOfAll(backendPids, 'postgres')),
    };
  };
}
