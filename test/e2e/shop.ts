// The running shop for end-to-end tests: `npm start` (scripts/shop.ts) as a child process on the
// infrastructure provideInfrastructure() chose. A shop that is already running is used as it is.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, type KafkaAddress } from '@qtshop/shared/infra';
import type { Infrastructure } from './infrastructure';

const root = resolve(import.meta.dirname, '../..');

export interface RunningShop {
  stop(): Promise<void>;
  /** What `npm start` has printed so far (empty when an already running shop was reused). */
  output(): string;
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
    output: () => out,
    async stop() {
      if (state !== 'started') return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/**
 * Waits until every consumer group of the shop has read its topics to the end. The suites before this one
 * leave backlogs on the shared stack (events written while a service was not running); a user's fresh
 * shop has none, and the walkthroughs' writes assume the services are caught up.
 */
export async function waitForConsumersCaughtUp(kafkaAddress: KafkaAddress, timeoutMs = 180_000, shopOutput?: () => string): Promise<void> {
  const kafka = createKafka(kafkaAddress, 'e2e-lag-check');
  const admin = kafka.admin();
  await admin.connect();
  const groups: Record<string, string[]> = {
    'qtshop-catalog': ['qtshop.inventory'],
    'qtshop-inventory': ['qtshop.product', 'qtshop.order'],
    'qtshop-basket': ['qtshop.product', 'qtshop.order'],
    'qtshop-order-command': ['qtshop.inventory', 'qtshop.product'],
    'qtshop-order-query': ['qtshop.order'],
  };
  let behind = '';
  try {
    await waitUntil(
      async () => {
        for (const [groupId, topics] of Object.entries(groups)) {
          for (const topic of topics) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
            for (const p of ends) {
              const at = Number(committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
              const from = at < 0 ? Number(p.low) : at;
              if (Number(p.high) - from > 0) {
                behind = `${groupId} on ${topic}[${p.partition}]: committed ${at}, low ${p.low}, end ${p.high}`;
                return false;
              }
            }
          }
        }
        return true;
      },
      { timeoutMs, everyMs: 500, what: "the shop's consumer groups to catch up with their topics" },
    );
  } catch (err) {
    // Which group is stuck where, and what the shop said meanwhile: enough to tell a slow catch-up from a stuck one.
    throw new Error(`${(err as Error).message}; last behind: ${behind}${shopOutput ? `\nthe shop's last output:\n${shopOutput().slice(-6000)}` : ''}`);
  } finally {
    await admin.disconnect();
  }
}
