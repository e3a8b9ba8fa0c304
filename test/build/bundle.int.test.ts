// The compiled entry points the services image runs (scripts/build.ts, Dockerfile): built into a folder laid
// out as the image's /app (dist/, connect-config/, node_modules/), each bundle must load and work with
// plain node: a service answers /ready against the stack and stops cleanly on SIGTERM, the compose jobs
// migrate and read the connector files, and the production guard still refuses a development default.
// Every package a bundle imports must be a production dependency: the image installs no other.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import pg from 'pg';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { connectorFiles, readConnectorFile } from '@qtshop/shared/delivery';
import { BUILD_ENTRIES, runtimePackages } from '../../scripts/build';
import { orderQuerySettings } from '../../services/order-query/src/config';
import { setScramCredential } from '../../stack/components';
import { loadStackConfig } from '../../stack/config';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

interface Run {
  code: number | null;
  out: string;
}

/** A value of the test's own for every setting whose default NODE_ENV=production refuses (ADMIN_TOKEN, the JWT secret, ...). */
const secrets = Object.fromEntries(
  Object.entries(orderQuerySettings)
    .filter(([, setting]) => (setting as { devDefault?: boolean }).devDefault)
    .map(([key]) => [key, `a-secret-of-the-test-${key.toLowerCase()}`]),
);

/**
 * Production refuses the development password of the service's Kafka principal, which is all the local stack
 * gives it: the test adds order-query a SCRAM-SHA-512 credential of its own (a user may hold one per
 * mechanism, so the stack's SCRAM-SHA-256 one is left alone) and removes it afterwards.
 */
const stack = loadStackConfig();
const kafkaSecret = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_PASSWORD: 'a-kafka-secret-of-the-bundle-test' };
/**
 * Likewise its PostgreSQL role's development password: the test logs order-query in as a role of its own, a
 * member of `order_query` (whose rights the migrations grant), with a password production accepts; dropped afterwards.
 */
const pgLogin = { PG_USER: 'qtshop_bundle_test', PG_PASSWORD: 'a-pg-secret-of-the-bundle-test' };
const pgAdmin = createDb(loadInfra(), 'postgres', { max: 1 });

let app: string;
let metafile: Metafile;

function run(
  command: string[],
  env: Record<string, string> = {},
  onOutput?: (out: string) => void,
  cwd = app,
): { done: Promise<Run>; kill: (signal: NodeJS.Signals) => void } {
  const { ADMIN_TOKEN: _unset, NODE_ENV: _env, ...inherited } = process.env;
  const child = spawn(process.execPath, command, { cwd, env: { ...inherited, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (c: Buffer) => {
    out += c.toString();
    onOutput?.(out);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const done = new Promise<Run>((resolveRun) => child.on('exit', (code) => resolveRun({ code, out })));
  return { done, kill: (signal) => child.kill(signal) };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qtshop-bundle-'));
  app = join(dir, 'app');
  mkdirSync(app);
  const build = await run(
    ['--import', 'tsx', resolve(root, 'scripts/build.ts'), '--outdir', join(app, 'dist'), '--metafile', join(dir, 'meta.json')],
    {},
    undefined,
    root,
  ).done;
  expect(build).toEqual({ code: 0, out: expect.stringMatching(/^built 8 entry points/) });
  metafile = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Metafile;
  cpSync(resolve(root, 'connect-config'), join(app, 'connect-config'), { recursive: true });
  symlinkSync(resolve(root, 'node_modules'), join(app, 'node_modules'));
  await setScramCredential(stack, stack.infra.kafka.port, 'order-query', 'scram-sha-512', kafkaSecret.KAFKA_PASSWORD);
  // CREATE ROLE takes no bind parameters: the name quoted as an identifier, the password as a literal.
  await pgAdmin.raw('drop role if exists ??', [pgLogin.PG_USER]);
  await pgAdmin.raw(`create role ?? login in role order_query password ${pg.escapeLiteral(pgLogin.PG_PASSWORD)}`, [pgLogin.PG_USER]);
}, 120_000);

afterAll(async () => {
  rmSync(resolve(app, '..'), { recursive: true, force: true });
  await setScramCredential(stack, stack.infra.kafka.port, 'order-query', 'scram-sha-512');
  await pgAdmin.raw('drop role if exists ??', [pgLogin.PG_USER]);
  await pgAdmin.destroy();
}, 60_000);

describe('the compiled entry points (npm run build)', () => {
  it('are one bundle per entry, importing only production dependencies at run time', () => {
    expect(Object.keys(metafile.outputs).filter((o) => o.endsWith('.js')).length).toBe(Object.keys(BUILD_ENTRIES).length);
    const packages = runtimePackages(metafile);
    expect(packages).toEqual(expect.arrayContaining(['kafkajs', 'knex', 'koa', 'pg']));
    expect(packages.filter((p) => !(p in pkg.dependencies))).toEqual([]);
    // Our own code is inside the bundles, not imported: no path of the source tree is left as an import.
    const ownImports = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.path.startsWith('@qtshop/') || i.path.includes('services/')));
    expect(ownImports).toEqual([]);
  });

  it('start a service with node alone: order-query answers /ready against the stack and stops on SIGTERM', async () => {
    let port = 0;
    const svc = run([join('dist', 'order-query.js')], { NODE_ENV: 'production', ...secrets, ...kafkaSecret, ...pgLogin, ORDER_QUERY_PORT: '0' }, (out) => {
      port ||= Number(/"port":(\d+)[^\n]*"msg":"order-query listening"/.exec(out)?.[1] ?? 0);
    });
    try {
      await waitUntil(async () => port > 0 && (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200, {
        timeoutMs: 60_000,
        what: 'compiled order-query ready',
      });
    } finally {
      svc.kill('SIGTERM');
    }
    const { code, out } = await svc.done;
    expect({ code, stopped: /"msg":"stopped"/.test(out) }).toEqual({ code: 0, stopped: true });
  }, 90_000);

  it('run the compose jobs: migrate brings every database up to date, connect reads the connector files next to dist/', async () => {
    const migrate = await run([join('dist', 'migrate.js')]).done;
    expect(migrate.code).toBe(0);
    expect(migrate.out).toMatch(/"database":"orders"/);
    const status = await run([join('dist', 'connect.js'), 'status']).done;
    expect(status.code).toBe(0);
    for (const file of connectorFiles()) expect(status.out).toContain(`"name": "${readConnectorFile(file).name}"`);
  }, 90_000);

  it('keep the production guard: a service refuses the development admin token', async () => {
    const { code, out } = await run([join('dist', 'catalog.js')], { NODE_ENV: 'production', PG_PASSWORD: pgLogin.PG_PASSWORD, CATALOG_PORT: '0' }).done;
    expect(code).toBe(1);
    expect(out).toMatch(/ADMIN_TOKEN: is the development default/);
  }, 30_000);
});
