// The polling-mode scenarios: npm start's relay and a standby one (chaos/cli.ts starts it), one of them
// killed or frozen, or Kafka made unreachable while the outboxes fill.
import { waitUntil } from '@qtshop/shared/platform';
import { loadRelayConfig } from '../services/relay/src/config';
import { counterAt, type FaultContext, type Scenario } from './faults';
import type { Category, Violation } from './invariants';
import { activeDatabases, componentPid, serviceUrl, servicePid, waitReady } from './shop';

export const POLLING_SCENARIOS: Scenario[] = [
  {
    name: 'kill-polling-relay',
    mode: 'polling',
    what: 'SIGKILL of the active polling relay under load: the standby takes over',
    fault: async (ctx) => {
      const { active, other } = await relays(ctx);
      ctx.note(`SIGKILL the active relay (${active.name}, pid ${active.pid})`);
      process.kill(active.pid, 'SIGKILL');
      const t = Date.now();
      await waitCovered(other.url, 60_000);
      ctx.note(`${other.name} active for every outbox after ${((Date.now() - t) / 1000).toFixed(1)} s`);
      await active.restart();
      return {};
    },
  },
  {
    name: 'freeze-polling-relay',
    mode: 'polling',
    what: 'SIGSTOP of the active polling relay (its connections stay open): the standby takes over within OUTBOX_TAKEOVER_AFTER_MS; resumed, it publishes nothing more',
    fault: async (ctx) => {
      const { active, other } = await relays(ctx);
      ctx.note(`SIGSTOP the active relay (${active.name}, pid ${active.pid})`);
      // What it had published when frozen: rows count once their batch is committed to Kafka and marked sent.
      const publishedBefore = await counterAt(active.url, 'relay_rows_published_total');
      const fencedBefore = await counterAt(active.url, 'relay_fenced_total');
      process.kill(active.pid, 'SIGSTOP');
      const t = Date.now();
      let tookMs: number;
      try {
        await waitCovered(other.url, 120_000);
        tookMs = Date.now() - t;
      } finally {
        process.kill(active.pid, 'SIGCONT');
      }
      const config = loadRelayConfig();
      // The standby's attempt after the bound ends the holder's session, the next one takes the lock.
      const boundMs = Math.max(config.OUTBOX_TAKEOVER_AFTER_MS, 3 * config.OUTBOX_POLL_INTERVAL_MS) + 2 * config.OUTBOX_POLL_INTERVAL_MS + 5000;
      ctx.note(`${other.name} active for every outbox ${(tookMs / 1000).toFixed(1)} s after the freeze (bound ${(boundMs / 1000).toFixed(0)} s)`);
      // Resumed, it finds its sessions ended and stands by, still answering: one active relay per outbox again.
      await waitUntil(async () => (await answers(active.url)) && (await activeDatabases(active.url)).length === 0 && (await covers(other.url)), {
        timeoutMs: 60_000,
        what: 'the resumed relay to stand by',
      });
      // Nothing it sent after the freeze became visible: a send in flight was fenced (its Kafka transaction
      // aborted by the new owner's producer), and it never marked a row sent behind the new owner's back.
      const publishedAfter = (await counterAt(active.url, 'relay_rows_published_total')) - publishedBefore;
      const fenced = (await counterAt(active.url, 'relay_fenced_total')) - fencedBefore;
      ctx.note(`resumed, it published ${publishedAfter} rows and was fenced by Kafka ${fenced} time(s)`);
      return {
        after: async () => [
          ...(tookMs > boundMs ? [violation('lost', `the standby took ${(tookMs / 1000).toFixed(1)} s to take over (bound ${boundMs / 1000} s)`)] : []),
          ...(publishedAfter > 0 ? [violation('unfenced', `the frozen relay, resumed, published ${publishedAfter} rows behind the new owner's back`)] : []),
        ],
      };
    },
  },
  {
    name: 'kafka-unreachable-polling',
    mode: 'polling',
    load: { lines: 15 },
    what: 'Kafka unreachable (broker SIGSTOPped) in polling mode while orders of up to 15 lines pile up in the outboxes',
    fault: async (ctx) => {
      const pid = componentPid('kafka');
      if (!pid) throw new Error('kafka is not running');
      ctx.note(`SIGSTOP kafka (pid ${pid}) for ${ctx.kafkaDownMs / 1000} s`);
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, ctx.kafkaDownMs));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const back = new Date();
      ctx.note(`unsent outbox rows when Kafka came back: ${await unsentRows(ctx, back)}`);
      await waitReady(180_000);
      await waitUntil(async () => (await unsentRows(ctx, back)) === 0, { timeoutMs: 180_000, what: 'the rows written while Kafka was away to be sent' });
      ctx.note(`...all sent ${((Date.now() - back.getTime()) / 1000).toFixed(1)} s after Kafka came back`);
      return {};
    },
  },
];

interface RelayProc {
  name: string;
  url: string;
  pid: number;
  restart: () => Promise<void>;
}

const outboxDatabases = () => loadRelayConfig().OUTBOX_DATABASES;
const covers = async (url: string) => {
  const active = await activeDatabases(url);
  return outboxDatabases().every((d) => active.includes(d));
};
const waitCovered = (url: string, timeoutMs: number) =>
  waitUntil(() => covers(url), { timeoutMs, everyMs: 250, what: `the relay at ${url} to hold every outbox lock` });

/** npm start's relay and the standby: which one holds the outbox locks (the one holding the most). */
async function relays(ctx: FaultContext): Promise<{ active: RelayProc; other: RelayProc }> {
  if (!ctx.standby) throw new Error('polling scenarios need the standby relay');
  const standby = ctx.standby;
  const restarts = ctx.launcher.restarts();
  await waitUntil(async () => (await covers(serviceUrl('relay'))) || (await covers(standby.url)), {
    timeoutMs: 60_000,
    what: 'one relay holding every outbox lock',
  });
  const launched: RelayProc = {
    name: "npm start's relay",
    url: serviceUrl('relay'),
    pid: servicePid('relay')!,
    restart: async () => {
      await waitUntil(async () => ctx.launcher.restarts() > restarts, { timeoutMs: 60_000, what: 'npm start to restart its relay' });
      await waitReady(60_000, ['relay']);
    },
  };
  const second: RelayProc = { name: 'the standby relay', url: standby.url, pid: standby.pid!, restart: () => standby.restartIfDead() };
  return (await covers(launched.url)) ? { active: launched, other: second } : { active: second, other: launched };
}

/** Outbox rows written before `before` and neither sent nor quarantined, in every outbox database. */
async function unsentRows(ctx: FaultContext, before: Date): Promise<number> {
  let n = 0;
  for (const d of outboxDatabases()) {
    const [row] = await ctx.stores.pg[d]!('outbox')
      .whereNull('sent_at')
      .whereNull('quarantined_at')
      .where('created_at', '<', before)
      .count<{ n: string }[]>({ n: '*' });
    n += Number(row!.n);
  }
  return n;
}

const violation = (category: Category, message: string): Violation => ({ category, message });
const answers = async (url: string) => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok === true;
