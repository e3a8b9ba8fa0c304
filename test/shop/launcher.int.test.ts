// npm start's behaviour when it is run twice and when a service does not become ready. Each test runs
// the launcher on the running local stack (QTSHOP_STACK=external), with its own pid/log directory,
// service ports and consumer groups, so it does not meet a shop that may already be running.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { alivePids } from '../support/procs';
import { waitUntil } from '@qtshop/shared/platform';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';

const root = resolve(import.meta.dirname, '../..');

function launcherEnv(portBase: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const id = randomUUID().slice(0, 8);
  return {
    ...process.env,
    QTSHOP_STACK: 'external',
    STACK_DIR: mkdtempSync(resolve(tmpdir(), 'qtshop-shop-')),
    LOG_LEVEL: 'warn',
    CATALOG_PORT: String(portBase + 1),
    INVENTORY_PORT: String(portBase + 2),
    BASKET_PORT: String(portBase + 3),
    ORDER_COMMAND_PORT: String(portBase + 4),
    ORDER_QUERY_PORT: String(portBase + 5),
    RELAY_PORT: String(portBase + 10),
    CATALOG_GROUP: `qtshop-catalog-shop-test-${id}`,
    INVENTORY_GROUP: `qtshop-inventory-shop-test-${id}`,
    BASKET_GROUP: `qtshop-basket-shop-test-${id}`,
    BASKET_DB: `basket_test_shop_${id}`,
    ORDER_COMMAND_GROUP: `qtshop-order-command-shop-test-${id}`,
    ORDER_QUERY_GROUP: `qtshop-order-query-shop-test-${id}`,
    ...extra,
  };
}

function launch(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'scripts/shop.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? 128 : -1))));
  return { child, output: () => out, exit };
}

/** Stops what a launcher killed with SIGKILL could not: its services (a leak breaks later suites). */
function killLeftovers(env: NodeJS.ProcessEnv): void {
  for (const pid of alivePids(resolve(env.STACK_DIR!, 'run'), 'shop-')) process.kill(pid, 'SIGKILL');
}

const pidOf = (env: NodeJS.ProcessEnv, service: string) => Number.parseInt(readFileSync(resolve(env.STACK_DIR!, 'run', `shop-${service}.pid`), 'utf8'), 10);

describe('npm start', () => {
  it('says the shop is already running when started twice, restarts a service that dies, and Ctrl-C stops the services', async () => {
    const env = launcherEnv(13000);
    const first = launch(env);
    try {
      await waitUntil(async () => /the shop is up/.test(first.output()), { timeoutMs: 120_000, what: `the shop to start:\n${first.output()}` });
      const second = launch(env);
      expect(await second.exit).toBe(0);
      expect(second.output()).toContain(`the shop is already running (${SHOP_SERVICES.join(', ')}); not starting a second copy`);
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), 'shop-')).toHaveLength(SHOP_SERVICES.length);

      // A service killed outright is started again, says so, and becomes ready.
      const killed = pidOf(env, 'order-query');
      process.kill(killed, 'SIGKILL');
      await waitUntil(async () => /order-query: restarted \(pid \d+\)/.test(first.output()), {
        timeoutMs: 30_000,
        what: `order-query to restart:\n${first.output()}`,
      });
      expect(first.output()).toMatch(/order-query exited \(SIGKILL\); restarting it in 1\.0s/);
      expect(pidOf(env, 'order-query')).not.toBe(killed);
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${env.ORDER_QUERY_PORT}/ready`).catch(() => undefined))?.status === 200, {
        timeoutMs: 60_000,
        what: 'the restarted order-query to be ready',
      });
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), 'shop-')).toHaveLength(SHOP_SERVICES.length);

      first.child.kill('SIGINT');
      expect(await first.exit).toBe(0);
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), 'shop-')).toEqual([]);
    } finally {
      first.child.kill('SIGKILL');
      killLeftovers(env);
      rmSync(env.STACK_DIR!, { recursive: true, force: true });
    }
  }, 180_000);

  it('names a service that does not become ready, prints its last log lines, stops everything it started and exits non-zero', async () => {
    const env = launcherEnv(14000, { ORDER_QUERY_DB: 'no_such_database', STACK_READY_TIMEOUT_MS: '20000', LOG_LEVEL: 'info' });
    const run = launch(env);
    try {
      expect(await run.exit).toBe(1);
      expect(run.output()).toContain('order-query did not become ready (20000 ms); last lines of');
      expect(run.output()).toMatch(/not ready: order-query; everything this run started has been stopped/);
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), 'shop-')).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      killLeftovers(env);
      rmSync(env.STACK_DIR!, { recursive: true, force: true });
    }
  }, 180_000);
});
