// pgbench, run by the benchmarks: the http bench's PostgreSQL-only reference, and the relay bench's
// writer (a C client, so that the load generator is not what saturates the machine).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Infra } from '@qtshop/shared/infra';

/** pgbench's version line, or undefined when it is not installed (Debian: postgresql-client). */
export function pgbenchAvailable(): string | undefined {
  const res = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

export interface PgbenchOptions {
  db: string;
  script: string;
  clients: number;
  seconds: number;
  /** Target transactions/s over all clients (-R, Poisson arrivals); absent: as fast as it can. */
  rate?: number;
  /** -D NAME=VALUE variables of the script. */
  defines?: Record<string, string>;
  /** Keeps per-transaction latencies (--log). */
  log?: boolean;
  /** -M: extended, a statement parsed at each execution (the default); prepared, as the services send theirs (PG_PREPARED_STATEMENTS). */
  protocol?: 'extended' | 'prepared';
}

export interface PgbenchRun {
  /** Transactions committed. */
  processed: number;
  tps: number;
  failed: number;
  /** Per-transaction latencies in ms (only with `log`). */
  latencies: number[];
  /** With `rate`: the worst delay of a transaction behind its schedule (pgbench's "schedule lag"), ms. */
  scheduleLagMaxMs: number | null;
}

export async function runPgbench(infra: Infra, o: PgbenchOptions): Promise<PgbenchRun> {
  const dir = await mkdtemp(join(tmpdir(), 'qtshop-pgbench-'));
  try {
    const args = [
      ...['-h', infra.pg.host, '-p', String(infra.pg.port), '-U', infra.pg.user, '-n'],
      ...['-M', o.protocol ?? 'extended', '-c', String(o.clients), '-j', String(Math.min(o.clients, 2))],
      ...['-T', String(o.seconds), '-f', o.script],
      ...(o.rate !== undefined ? ['-R', String(o.rate)] : []),
      ...Object.entries(o.defines ?? {}).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      ...(o.log ? ['--log', `--log-prefix=${join(dir, 'tx')}`] : []),
      o.db,
    ];
    const res = await new Promise<{ code: number | null; out: string }>((r) => {
      const child = spawn('pgbench', args, { env: { ...process.env, PGPASSWORD: infra.pg.password }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => r({ code, out }));
    });
    if (res.code !== 0) throw new Error(`pgbench failed (${res.code}):\n${res.out}`);
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(res.out)?.[1] ?? Number.NaN);
    const tps = Number(/tps = ([\d.]+)/.exec(res.out)?.[1] ?? Number.NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(res.out)?.[1] ?? 0);
    const lag = /schedule lag: avg [\d.]+ \(max ([\d.]+)\) ms/.exec(res.out)?.[1];
    const latencies: number[] = [];
    if (o.log) {
      for (const f of await readdir(dir)) {
        for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
          const us = Number(line.split(' ')[2]);
          if (line && Number.isFinite(us)) latencies.push(us / 1000);
        }
      }
    }
    return { processed, tps, failed, latencies, scheduleLagMaxMs: lag === undefined ? null : Number(lag) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
