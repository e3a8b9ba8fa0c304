// The http benchmark's run: each target warmed up, then measured, in the order koa, get, post, pgbench.
import autocannon from 'autocannon';
import { loadInfra } from '@qtshop/shared/infra';
import { LoadWatch, machineInfo } from '../lib/machine';
import { Progress } from '../lib/progress';
import { recordedOptions, writeReport, type ReportFiles } from '../lib/report';
import { fmt, summarize } from '../lib/stats';
import type { HttpBenchOptions } from './options';
import { evaluateHttpTargets, httpReport, type HttpBenchResults, type HttpRow } from './report';
import { pgbenchAvailable, runPgbench } from '../lib/pgbench';
import { cannon, PGBENCH_SCRIPT, prepareCatalogDb, productBody, seedProducts, startServer } from './servers';

const ADMIN_TOKEN = 'dev-admin-token';

export async function runHttpBench(o: HttpBenchOptions): Promise<{ results: HttpBenchResults; files: ReportFiles }> {
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
  const catalogEnv = { CATALOG_DB: o.db, CATALOG_GROUP: `qtshop-catalog-bench-${o.db}`, ADMIN_TOKEN, LOG_LEVEL: 'warn' };

  const note = (r: HttpRow) => {
    rows.push(r);
    progress.note(
      r.skipped
        ? `${r.label.padEnd(44)} skipped: ${r.skipped}`
        : `${r.label.padEnd(44)} ${fmt(r.perSecond).padStart(7)}/s  ` +
            `p50 ${fmt(r.latencyMs.p50)} p90 ${fmt(r.latencyMs.p90)} p99 ${fmt(r.latencyMs.p99)} max ${fmt(r.latencyMs.max)} ms  ` +
            `non-2xx ${r.non2xx} errors ${r.errors}`,
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
      const latencyMs = { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
      rows.push({ target: 'pgbench', label, perSecond: Number.NaN, latencyMs, total: 0, non2xx: 0, errors: 0, skipped: why });
    } else {
      progress.update('http bench: pgbench warm-up', true);
      const pgbench = (seconds: number, log: boolean) =>
        runPgbench(infra, { db: o.db, script: PGBENCH_SCRIPT, clients: o.connections, seconds, log, protocol: 'prepared' });
      if (warm) await pgbench(Math.max(1, Math.round(o.warmupS)), false);
      progress.update(`http bench: pgbench ${o.durationS} s`, true);
      const res = await pgbench(o.durationS, true);
      const s = summarize(res.latencies);
      notes.push(`pgbench: ${version}, -M prepared -c ${o.connections} -j ${Math.min(o.connections, 2)}, script bench/pgbench/create-product.sql.`);
      const latencyMs = { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean };
      note({ target: 'pgbench', label, perSecond: res.tps, latencyMs, total: s.count, non2xx: 0, errors: res.failed });
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
    options: recordedOptions(o),
    rows,
    targets: evaluateHttpTargets(rows),
    notes,
  };
  const files = await writeReport(o.outDir, o.name, results, httpReport);
  return { results, files };
}
