// What the http benchmark runs against: its catalog database, the servers in their own process
// (bench/http-server.ts), autocannon and pgbench.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createDb, type Infra } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { migrateLatest } from '@qtshop/shared/tooling';
import { catalogMigrations } from '../../migrations/catalog';
import { createProduct } from '../../services/catalog/src/domain/products';
import type { Progress } from '../lib/progress';
import { summarize } from '../lib/stats';
import type { HttpBenchOptions, HttpTarget } from './options';
import type { HttpRow } from './report';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
export const PGBENCH_SCRIPT = resolve(BENCH, 'pgbench/create-product.sql');

export async function prepareCatalogDb(infra: Infra, db: string): Promise<void> {
  const admin = createDb(infra, 'postgres', { max: 1 });
  try {
    if (!(await admin('pg_database').where({ datname: db }).first())) await admin.raw('create database ??', [db]);
  } finally {
    await admin.destroy();
  }
  const knex = createDb(infra, db, { max: 1 });
  try {
    await migrateLatest(knex, catalogMigrations);
    await knex.raw('truncate products, outbox');
  } finally {
    await knex.destroy();
  }
}

export const productBody = (n: number) => ({
  name: `Kettle ${n}`,
  description: 'Stainless steel, 1.7 l',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: 'https://img.example/kettle.png',
  price: 2599,
});

export async function seedProducts(infra: Infra, db: string, n: number): Promise<string[]> {
  const knex = createDb(infra, db, { max: 4 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await createProduct({ db: knex, outbox: createOutboxWriter() }, productBody(i))).id);
    return ids;
  } finally {
    await knex.destroy();
  }
}

export interface Server {
  url: string;
  stop(): Promise<void>;
}

/** Starts bench/http-server.ts in its own Node process (tsx loader) and waits for its port. */
export async function startServer(mode: 'catalog' | 'koa', env: NodeJS.ProcessEnv): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', resolve(BENCH, 'http-server.ts'), mode], {
    cwd: resolve(BENCH, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start within 60 s: ${stderr}`)), 60_000);
    // The server's stdout also carries its log lines (pino): look for the one with the port, and keep
    // reading the rest so that the pipe never fills.
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let parsed: { benchServerPort?: unknown } = {};
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        /* a log line */
      }
      if (typeof parsed.benchServerPort === 'number') {
        clearTimeout(timer);
        resolvePort(parsed.benchServerPort);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} server exited (${code}): ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function cannon(opts: autocannon.Options, label: string, target: HttpTarget, progress: Progress): Promise<HttpRow> {
  // autocannon's own histogram keeps whole milliseconds; the response event carries the exact time.
  const times: number[] = [];
  const r = await new Promise<autocannon.Result>((resolveRun, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolveRun(result)));
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      times.push(responseTime);
      if (times.length % 500 === 0) progress.update(`http bench: ${label} ${times.length.toLocaleString('en-US')} responses`);
    });
  });
  const l = summarize(times);
  return {
    target,
    label,
    perSecond: r['2xx'] / r.duration,
    latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean },
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}
