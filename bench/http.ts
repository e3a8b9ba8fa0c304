// HTTP benchmark (issue 8): autocannon against the catalog service's GET /products/:id and POST /products
// (product insert + outbox insert in one transaction), each beside its ceiling on this machine:
//   - POST beside pgbench running that very transaction (bench/pgbench/create-product.sql: same tables,
//     same database, same client count);
//   - GET beside a bare Koa handler returning a constant product.
// The servers run in their own process (bench/http-server.ts); the catalog uses its own database
// (bench_catalog, migrated like catalog) and consumer group, so the shop's data is never touched.
//
//   npm run bench -- http [--connections 10] [--duration 10] [--warmup 2] [--seed 1000] ...
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createDb, loadInfra, type Infra } from '@qtshop/shared';
import { migrateLatest } from '@qtshop/shared/tooling';
import { catalogMigrations } from '../migrations/catalog';
import { applyCommon, num, rewriteFromJson, runAsScript } from './lib/cli-args';
import { createProduct } from '../services/catalog/src/domain/products';
import { groupedBars, renderSvg, stack, type BarRow } from './lib/chart';
import { LoadWatch, machineInfo, type MachineInfo } from './lib/machine';
import { Progress } from './lib/progress';
import { fmt, summarize } from './lib/stats';
import { RESULTS_DIR } from './relay';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const PGBENCH_SCRIPT = resolve(HERE, 'pgbench/create-product.sql');
const ADMIN_TOKEN = 'dev-admin-token';

export type HttpTarget = 'koa' | 'get' | 'post' | 'pgbench';

export interface HttpBenchOptions {
  name: string;
  outDir: string;
  targets: HttpTarget[];
  /** Concurrent HTTP connections, and pgbench clients. */
  connections: number;
  /** Measured seconds per target, after `warmupS` unmeasured seconds. */
  durationS: number;
  warmupS: number;
  /** Products created before the GET run; GET requests cycle through them. */
  seed: number;
  db: string;
  command: string;
  progress: boolean;
}

export const HTTP_DEFAULTS: HttpBenchOptions = {
  name: 'http',
  outDir: RESULTS_DIR,
  targets: ['koa', 'get', 'post', 'pgbench'],
  connections: 10,
  durationS: 10,
  warmupS: 2,
  seed: 1000,
  db: 'bench_catalog',
  command: 'npm run bench -- http',
  progress: true,
};

const USAGE = `npm run bench -- http [options]

  --targets LIST      koa,get,post,pgbench (default: all)
  --connections N     HTTP connections and pgbench clients (default 10)
  --duration S        measured seconds per target (default 10)
  --warmup S          unmeasured seconds before each (default 2)
  --seed N            products created for the GET run (default 1000)
  --db NAME           own catalog database (default bench_catalog)
  --name NAME         results file name (default http)
  --out DIR           results directory (default bench/results)
  --quiet             no progress line
  --from-json FILE    run nothing: rewrite the table and chart of saved results (FILE.json → FILE.md, FILE.svg)
`;

export function parseHttpArgs(argv: string[]): HttpBenchOptions | 'help' | { fromJson: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      quiet: { type: 'boolean' },
      targets: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      db: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      'from-json': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values['from-json']) return { fromJson: resolve(values['from-json']) };
  const o: HttpBenchOptions = { ...HTTP_DEFAULTS, command: ['npm run bench -- http', ...argv].join(' ') };
  if (values.targets) {
    o.targets = values.targets.split(',').map((t) => {
      const s = t.trim();
      if (s !== 'koa' && s !== 'get' && s !== 'post' && s !== 'pgbench') throw new Error(`--targets: unknown target "${s}" (koa, get, post, pgbench)`);
      return s;
    });
  }
  if (values.connections) o.connections = num(values.connections, '--connections', 1);
  if (values.duration) o.durationS = num(values.duration, '--duration', 1);
  if (values.warmup) o.warmupS = num(values.warmup, '--warmup', 0);
  if (values.seed) o.seed = num(values.seed, '--seed', 1);
  return applyCommon(o, values);
}

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
  targets: Array<{ target: string; met: boolean | null; detail: string }>;
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------

async function prepareCatalogDb(infra: Infra, db: string): Promise<void> {
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

const productBody = (n: number) => ({
  name: `Kettle ${n}`,
  description: 'Stainless steel, 1.7 l',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: 'https://img.example/kettle.png',
  price: 2599,
});

async function seedProducts(infra: Infra, db: string, n: number): Promise<string[]> {
  const knex = createDb(infra, db, { max: 4 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await createProduct({ db: knex }, productBody(i))).id);
    return ids;
  } finally {
    await knex.destroy();
  }
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

/** Starts bench/http-server.ts in its own Node process (tsx loader) and waits for its port. */
async function startServer(mode: 'catalog' | 'koa', env: NodeJS.ProcessEnv): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', resolve(HERE, 'http-server.ts'), mode], {
    cwd: resolve(HERE, '..'),
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

async function cannon(opts: autocannon.Options, label: string, target: HttpTarget, progress: Progress): Promise<HttpRow> {
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

export function pgbenchAvailable(): string | undefined {
  const res = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/** Runs pgbench with the product+outbox script; latency percentiles from its per-transaction log. */
async function runPgbench(infra: Infra, o: HttpBenchOptions, seconds: number, log: boolean): Promise<{ tps: number; latencies: number[]; failed: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'qtshop-pgbench-'));
  try {
    const args = [
      '-h', infra.pg.host, '-p', String(infra.pg.port), '-U', infra.pg.user,
      '-n', '-M', 'extended', '-c', String(o.connections), '-j', String(Math.min(o.connections, 2)),
      '-T', String(seconds), '-f', PGBENCH_SCRIPT,
      ...(log ? ['--log', `--log-prefix=${join(dir, 'tx')}`] : []),
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
    const tps = Number(/tps = ([\d.]+)/.exec(res.out)?.[1] ?? Number.NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(res.out)?.[1] ?? 0);
    const latencies: number[] = [];
    if (log) {
      for (const f of await readdir(dir)) {
        for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
          const us = Number(line.split(' ')[2]);
          if (line && Number.isFinite(us)) latencies.push(us / 1000);
        }
      }
    }
    return { tps, latencies, failed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runHttpBench(o: HttpBenchOptions): Promise<{ results: HttpBenchResults; files: { json: string; md: string; svg: string } }> {
  const started = new Date();
  const load = new LoadWatch();
  const t0 = Date.now();
  const infra = loadInfra();
  const progress = new Progress(o.progress);
  const rows: HttpRow[] = [];
  const notes: string[] = [];
  const warm = o.warmupS > 0;
  const base = { connections: o.connections, pipelining: 1 };

  progress.update('http bench: preparing the database', true);
  await prepareCatalogDb(infra, o.db);
  const catalogEnv = { CATALOG_DB: o.db, CATALOG_GROUP: `bench-catalog-${o.db}`, ADMIN_TOKEN, LOG_LEVEL: 'warn' };

  const note = (r: HttpRow) => {
    rows.push(r);
    progress.note(
      r.skipped
        ? `${r.label.padEnd(44)} skipped: ${r.skipped}`
        : `${r.label.padEnd(44)} ${fmt(r.perSecond).padStart(7)}/s  p50 ${fmt(r.latencyMs.p50)} p90 ${fmt(r.latencyMs.p90)} p99 ${fmt(r.latencyMs.p99)} max ${fmt(r.latencyMs.max)} ms  non-2xx ${r.non2xx} errors ${r.errors}`,
    );
  };

  if (o.targets.includes('koa')) {
    const server = await startServer('koa', {});
    try {
      const opts = { ...base, url: `${server.url}/products/x` };
      progress.update('http bench: bare Koa warm-up', true);
      if (warm) await autocannon({ ...opts, duration: o.warmupS });
      note(await cannon({ ...opts, duration: o.durationS }, 'bare Koa, constant body (read ceiling)', 'koa', progress));
    } finally {
      await server.stop();
    }
  }

  if (o.targets.includes('get') || o.targets.includes('post')) {
    const server = await startServer('catalog', catalogEnv);
    try {
      if (o.targets.includes('get')) {
        progress.update(`http bench: creating ${o.seed} products`, true);
        const ids = await seedProducts(infra, o.db, o.seed);
        let i = 0;
        const opts: autocannon.Options = {
          ...base,
          url: server.url,
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/products/${ids[i++ % ids.length]}` }) }],
        };
        progress.update('http bench: GET warm-up', true);
        if (warm) await autocannon({ ...opts, duration: o.warmupS });
        note(await cannon({ ...opts, duration: o.durationS }, 'catalog GET /products/:id', 'get', progress));
      }
      if (o.targets.includes('post')) {
        let n = 0;
        const opts: autocannon.Options = {
          ...base,
          url: server.url,
          requests: [
            {
              method: 'POST',
              path: '/products',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
              setupRequest: (req) => ({ ...req, body: JSON.stringify(productBody(n++)) }),
            },
          ],
        };
        progress.update('http bench: POST warm-up', true);
        if (warm) await autocannon({ ...opts, duration: o.warmupS });
        note(await cannon({ ...opts, duration: o.durationS }, 'catalog POST /products (+ outbox)', 'post', progress));
      }
    } finally {
      await server.stop();
    }
  }

  if (o.targets.includes('pgbench')) {
    const version = pgbenchAvailable();
    const label = 'pgbench, POST transaction (write ceiling)';
    if (!version) {
      const why = 'pgbench not found on PATH: install it (Debian: apt-get install -y postgresql-client) and run again';
      progress.note(`*** ${why} ***`);
      notes.push(`The write ceiling was not measured: ${why}.`);
      rows.push({ target: 'pgbench', label, perSecond: Number.NaN, latencyMs: { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN }, total: 0, non2xx: 0, errors: 0, skipped: why });
    } else {
      progress.update('http bench: pgbench warm-up', true);
      if (warm) await runPgbench(infra, o, Math.max(1, Math.round(o.warmupS)), false);
      progress.update(`http bench: pgbench ${o.durationS} s`, true);
      const res = await runPgbench(infra, o, o.durationS, true);
      const s = summarize(res.latencies);
      notes.push(`pgbench: ${version}, -M extended -c ${o.connections} -j ${Math.min(o.connections, 2)}, script bench/pgbench/create-product.sql.`);
      note({ target: 'pgbench', label, perSecond: res.tps, latencyMs: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean }, total: s.count, non2xx: 0, errors: res.failed });
    }
  }
  progress.clear();

  const machine = { ...machineInfo(), maxLoad: Math.round(load.stop() * 100) / 100 };
  const results: HttpBenchResults = {
    name: o.name,
    startedAt: started.toISOString(),
    durationS: Math.round((Date.now() - t0) / 100) / 10,
    command: o.command,
    machine,
    options: (({ outDir: _o, progress: _p, command: _c, ...rest }) => rest)(o),
    rows,
    targets: evaluateHttpTargets(rows),
    notes,
  };
  await mkdir(o.outDir, { recursive: true });
  const files = { json: resolve(o.outDir, `${o.name}.json`), md: resolve(o.outDir, `${o.name}.md`), svg: resolve(o.outDir, `${o.name}.svg`) };
  await writeFile(files.json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files.svg, await httpChart(results));
  await writeFile(files.md, httpMarkdown(results, `${o.name}.svg`));
  return { results, files };
}

export function evaluateHttpTargets(rows: HttpRow[]): HttpBenchResults['targets'] {
  const by = (t: HttpTarget) => rows.find((r) => r.target === t && !r.skipped);
  const out: HttpBenchResults['targets'] = [];
  const post = by('post');
  const pg = by('pgbench');
  if (post && pg) {
    const ratio = post.perSecond / pg.perSecond;
    out.push({ target: 'POST /products ≥ 40% of the pgbench transaction rate', met: ratio >= 0.4, detail: `${fmt(post.perSecond)} vs ${fmt(pg.perSecond)} /s (${fmt(ratio * 100)}%)` });
  } else if (post) {
    out.push({ target: 'POST /products ≥ 40% of the pgbench transaction rate', met: null, detail: 'pgbench did not run' });
  }
  const get = by('get');
  const koa = by('koa');
  if (get && koa) {
    const ratio = get.perSecond / koa.perSecond;
    out.push({ target: 'GET /products/:id ≥ 30% of the bare Koa handler', met: ratio >= 0.3, detail: `${fmt(get.perSecond)} vs ${fmt(koa.perSecond)} /s (${fmt(ratio * 100)}%)` });
  }
  return out;
}

export function httpMarkdown(r: HttpBenchResults, svgName: string): string {
  const mark = (met: boolean | null) => (met === null ? 'ℹ' : met ? '✅ met' : '❌ missed');
  const lines = [
    `# HTTP benchmark: ${r.name}`,
    '',
    `Run ${r.startedAt} (${r.durationS} s) on ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB (${r.machine.cpuModel}), ${r.machine.os}, Node ${r.machine.node}; highest 1-minute load average ${r.machine.maxLoad ?? r.machine.loadAvg[0]}.`,
    '',
    '```',
    r.command,
    '```',
    '',
    `${r.options.connections} connections (pgbench: clients), ${r.options.durationS} s measured after ${r.options.warmupS} s of warm-up per target; ` +
      `servers in their own Node process, autocannon in the bench process, PostgreSQL, Kafka and Connect on the same machine. ` +
      `GET cycles through ${r.options.seed} products; POST creates a product and its ProductCreated outbox row in one transaction, on database ${r.options.db}.`,
    '',
    `![requests per second and latency](${svgName})`,
    '',
    '| target | per second | p50 ms | p90 ms | p99 ms | max ms | mean ms | total | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) =>
      x.skipped
        ? `| ${x.label} | skipped: ${x.skipped} | | | | | | | | |`
        : `| ${x.label} | ${fmt(x.perSecond)} | ${fmt(x.latencyMs.p50)} | ${fmt(x.latencyMs.p90)} | ${fmt(x.latencyMs.p99)} | ${fmt(x.latencyMs.max)} | ${fmt(x.latencyMs.mean)} | ${x.total} | ${x.non2xx} | ${x.errors} |`,
    ),
    '',
    '## Targets (issue 8)',
    '',
    '| target | result | measured |',
    '|---|---|---|',
    ...r.targets.map((t) => `| ${t.target} | ${mark(t.met)} | ${t.detail} |`),
    '',
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
      groupedBars({ title: 'Latency percentiles (ms, log scale)', unit: 'ms', rows: lat, log: true, logBase: 0.1, format: ',.3~r', seriesOrder: ['p50', 'p90', 'p99'] }),
    ]),
  );
}

export async function httpMain(argv: string[]): Promise<number> {
  const o = parseHttpArgs(argv);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('fromJson' in o) {
    await rewriteFromJson(o.fromJson, httpChart, httpMarkdown);
    return 0;
  }
  const { results, files } = await runHttpBench(o);
  process.stdout.write(`${httpMarkdown(results, files.svg)}\nwrote ${files.json}\n      ${files.md}\n      ${files.svg}\n`);
  return 0;
}

runAsScript(import.meta.url, 'http benchmark', httpMain);
