// The stack CLI's failure paths, run against a second, throwaway stack (own STACK_DIR and ports)
// so the stack the other suites use is not touched.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { alivePids } from '../support/procs';
import { runStackCli } from '../support/stack-cli';

const root = resolve(import.meta.dirname, '../..');
const mainStack = resolve(root, '.stack');

const runCli = runStackCli;

/** A second stack that reuses the resolved jars of the main one (no Maven run) on other ports. */
function scratchStack(offset: number): NodeJS.ProcessEnv {
  const dir = mkdtempSync(resolve(tmpdir(), 'qtshop-stack-'));
  mkdirSync(resolve(dir, 'lib'));
  for (const d of ['kafka', 'mongo']) symlinkSync(resolve(mainStack, 'lib', d), resolve(dir, 'lib', d));
  copyFileSync(resolve(mainStack, 'lib/resolved.json'), resolve(dir, 'lib/resolved.json'));
  symlinkSync(resolve(mainStack, 'plugins'), resolve(dir, 'plugins'));
  return {
    STACK_DIR: dir,
    PG_PORT: String(56432 + offset),
    KAFKA_PORT: String(19092 + offset),
    KAFKA_CONTROLLER_PORT: String(19093 + offset),
    CONNECT_PORT: String(18083 + offset),
    MONGO_PORT: String(28017 + offset),
    KAFKA_BROKERS: '',
    CONNECT_URL: '',
    MONGO_URL: '',
    PG_HOST: '127.0.0.1',
  };
}

function listen(port: number): Promise<Server> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(port, '127.0.0.1', () => ok(s));
  });
}

describe('npm run stack', () => {
  it('prints usage on stderr and exits 2 for an unknown subcommand', async () => {
    const res = await runCli(['launch']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown command: launch');
    expect(res.stderr).toContain('usage: npm run stack -- <command>');
  });

  it('exits 2 for logs of an unknown component', async () => {
    const res = await runCli(['logs', 'zookeeper']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown component: zookeeper');
  });

  it('names the port and the component when a port is taken, and leaves nothing half-started', async () => {
    const env = scratchStack(1);
    const blocker = await listen(Number(env.KAFKA_PORT));
    try {
      const res = await runCli(['up'], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`kafka: port ${env.KAFKA_PORT} is already in use`);
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), '')).toEqual([]);
    } finally {
      blocker.close();
      rmSync(env.STACK_DIR!, { recursive: true, force: true });
    }
  }, 120_000);

  it('names a component that does not become ready in time, prints its log, stops everything and exits non-zero', async () => {
    const env: NodeJS.ProcessEnv = { ...scratchStack(2), STACK_READY_TIMEOUT_MS: '1000' };
    try {
      const res = await runCli(['up'], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/error: (postgres|kafka|connect|mongo): (not ready after 1000 ms|exited before it became ready); last lines of /);
      expect(alivePids(resolve(env.STACK_DIR!, 'run'), '')).toEqual([]);
      const status = await runCli(['status'], env);
      expect(status.stdout).not.toMatch(/\bup\s*$/m);
    } finally {
      await runCli(['down'], env);
      rmSync(env.STACK_DIR!, { recursive: true, force: true });
    }
  }, 120_000);
});
