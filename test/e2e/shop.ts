// The running shop for end-to-end tests: `npm start` (scripts/shop.ts) as a child process on the
// infrastructure provideInfrastructure() chose. A shop that is already running is used as it is.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitUntil } from '@qtshop/shared';
import type { Infrastructure } from './infrastructure';

const root = resolve(import.meta.dirname, '../..');

export interface RunningShop {
  stop(): Promise<void>;
}

export async function startShop(infra: Infrastructure): Promise<RunningShop> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'scripts/shop.ts')], {
    cwd: root,
    env: { ...process.env, ...infra.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const state = await waitUntil(
    async () => {
      if (/the shop is up/.test(out)) return 'started' as const;
      if (/the shop is already running/.test(out)) return 'reused' as const;
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
      return undefined;
    },
    { timeoutMs: 300_000, what: 'the shop to start', everyMs: 250 },
  ).catch((err: Error) => {
    child.kill('SIGINT');
    throw new Error(`${err.message}\n${out.slice(-3000)}`);
  });
  return {
    async stop() {
      if (state !== 'started') return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
