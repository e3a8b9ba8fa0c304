// Faults that come from configuration and from the cluster, not from crashes: each must settle with no
// operator step, and be visible while it lasts (a /ready 503 saying why). A scenario watches the /ready of
// the services it expects to say so from the moment it injects the fault until it heals, and reports an
// `invisible` violation when none did.
import { randomUUID } from 'node:crypto';
// kafkajs is CommonJS: ConfigResourceTypes is not among the named exports Node finds in it.
import kafkajs, { type Admin } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { loadInfra } from '@qtshop/shared/infra';
import { dlqTopicOf } from '@qtshop/shared/messaging';
import { ConnectClient } from '@qtshop/shared/delivery';
import { listDeadLetters, readConnector } from '@qtshop/shared/tooling';
import { healthy, metricSum, type FaultContext, type Scenario } from './faults';
import type { Violation } from './invariants';
import type { ShopService } from '@qtshop/shared/tooling';
import { instanceUrls } from './shop';
import { CONSUMERS } from './snapshot';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the /ready of `services` every 250 ms until stopped; remembers the first 503 whose body matches
 * `pattern` (what the fault should make a service say).
 */
function watchReady(services: ShopService[], pattern: RegExp) {
  let seen: string | undefined;
  let stopped = false;
  const urls = services.flatMap((s) => instanceUrls(s).map((url) => ({ s, url })));
  const done = (async () => {
    while (!stopped && !seen) {
      for (const { s, url } of urls) {
        const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        if (res?.status !== 503) continue;
        const body = await res.text();
        if (pattern.test(body)) seen = `${s} /ready 503: ${body.slice(0, 400)}`;
      }
      await sleep(250);
    }
  })();
  return {
    seen: () => seen,
    async stop(): Promise<string | undefined> {
      stopped = true;
      await done;
      return seen;
    },
  };
}

const invisible = (what: string, seen: string | undefined): Violation[] =>
  seen ? [] : [{ category: 'invisible', message: `${what}, and no /ready said so while it lasted` }];

/** Sets a topic's config entry and returns a function putting back the value it had. */
async function setTopicConfig(admin: Admin, topic: string, name: string, value: string): Promise<() => Promise<void>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
  });
  const before = described.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
  const set = (v: string) =>
    admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name, value: v }] }] });
  await set(value);
  return async () => {
    if (before !== undefined) await set(before);
  };
}

async function withAdmin<T>(ctx: FaultContext, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = ctx.stores.kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const consumersOf = (topic: string) =>
  (Object.entries(CONSUMERS) as Array<[ShopService, (typeof CONSUMERS)[keyof typeof CONSUMERS]]>)
    .filter(([, c]) => (c.topics as readonly string[]).includes(topic))
    .map(([name]) => name);

export const LIVENESS_SCENARIOS: Scenario[] = [
  {
    name: 'refused-dlq',
    what: "qtshop.product.dlq refuses every dead letter (its max.message.bytes lowered to 64) while a record that is not JSON arrives on qtshop.product: its partition waits, the rest flows, and it is dead-lettered once the DLQ's limit is back",
    fault: async (ctx) => {
      const topic = 'qtshop.product';
      const readers = consumersOf(topic);
      const poison = randomUUID();
      return withAdmin(ctx, async (admin) => {
        const restore = await setTopicConfig(admin, dlqTopicOf(topic), 'max.message.bytes', '64');
        const watch = watchReady(readers, /waits at offset .*dead letter .*refused/);
        try {
          const producer = ctx.stores.kafka.producer();
          await producer.connect();
          await producer.send({ topic, messages: [{ key: randomUUID(), value: '{"not json', headers: { id: poison, eventType: 'ProductUpdated' } }] });
          await producer.disconnect();
          ctx.note(`${dlqTopicOf(topic)} max.message.bytes = 64; a record that is not JSON (id ${poison}) on ${topic}`);
          await waitUntil(async () => watch.seen(), { timeoutMs: 30_000, what: `a /ready 503 of ${readers.join(', ')} naming the waiting partition` }).catch(
            () => undefined,
          );
          await sleep(10_000); // the fault lasts; the load goes on through the other partitions
        } finally {
          await restore();
        }
        ctx.note(`${dlqTopicOf(topic)} max.message.bytes restored`);
        const seen = await watch.stop();
        await healthy();
        return {
          after: async () => {
            const out = invisible('dead letters were refused', seen);
            const dead = (await listDeadLetters(ctx.stores.kafka, topic)).filter((d) => d.id === poison);
            const groups = new Set(dead.map((d) => d.original.group));
            if (dead.length !== readers.length || groups.size !== readers.length)
              out.push({
                category: 'lost',
                message: `the poison record was dead-lettered ${dead.length} times by ${groups.size} groups; expected once by each of ${readers.join(', ')}`,
              });
            ctx.note(`visible: ${seen ?? 'no'}; dead letters of the poison record: ${dead.length} (${[...groups].join(', ')})`);
            return out;
          },
        };
      });
    },
  },
  {
    name: 'cluster-refusal',
    what: "qtshop.product refuses records for 45 s (its max.message.bytes lowered to 200, below every product event): nothing quarantined, the relay's /ready 503 while the repair is refused, every event delivered by itself once the limit is back",
    fault: async (ctx) => {
      const watch = watchReady(['relay'], /Kafka refuses the relay's records/);
      const downMs = Math.max(45_000, ctx.repairAfterMs + 15_000);
      await withAdmin(ctx, async (admin) => {
        const restore = await setTopicConfig(admin, 'qtshop.product', 'max.message.bytes', '200');
        ctx.note(`qtshop.product max.message.bytes = 200 for ${downMs / 1000} s`);
        try {
          await sleep(downMs);
        } finally {
          await restore();
        }
      });
      const restoredAt = Date.now();
      ctx.note('qtshop.product max.message.bytes restored');
      const seen = await watch.stop();
      await healthy();
      return { recoveredMs: Date.now() - restoredAt, after: async () => (ctx.note(`visible: ${seen ?? 'no'}`), invisible('Kafka refused the relay', seen)) };
    },
  },
  {
    name: 'drifted-connector',
    what: "orders-outbox's route.topic.replacement changed to qtshop.inventory through Connect REST: the misrouted records confirm nothing, the relay reports them and the drift, restores the committed configuration, and repair delivers them to qtshop.order",
    fault: async (ctx) => {
      const connect = ConnectClient.of(loadInfra().connect);
      const name = readConnector('orders-outbox').name;
      const key = 'transforms.outbox.route.topic.replacement';
      const committed = (await connect.config(name))[key];
      const misroutedBefore = await metricSum('relay', 'relay_misrouted_records_total');
      const watch = watchReady(['relay'], /configuration differs from connect-config|seen on a wrong topic/);
      const { name: _n, ...config } = await connect.config(name);
      await connect.put(name, { ...config, [key]: 'qtshop.inventory' });
      ctx.note(`${name}: ${key} = qtshop.inventory (was ${committed})`);
      // The relay restores the committed configuration by itself (CONNECT_RESTORE_DRIFT).
      await waitUntil(async () => (await connect.config(name))[key] === committed, { timeoutMs: 60_000, what: `the relay to restore ${name}'s ${key}` });
      const restoredAt = Date.now();
      ctx.note(`${key} restored by the relay`);
      const seen = await watch.stop();
      await healthy();
      const recoveredMs = Date.now() - restoredAt;
      return {
        recoveredMs,
        after: async () => {
          // Records misrouted before the restore took effect (the drifted task may not have produced any);
          // the invariants have already checked that every row reached its own topic.
          const misrouted = (await metricSum('relay', 'relay_misrouted_records_total')) - misroutedBefore;
          ctx.note(`visible: ${seen ?? 'no'}; records misrouted meanwhile: ${misrouted}`);
          return invisible('the connector drifted', seen);
        },
      };
    },
  },
  {
    name: 'failing-saga-step',
    what: "inventory's stock_decisions table renamed away for 4 s and back (a deploy whose code runs before its migration): the OrderPlaced events of those seconds wait and settle by themselves, none dead-lettered",
    fault: async (ctx) => {
      const db = ctx.stores.pg.inventory!;
      const watch = watchReady(['inventory'], /handler keeps failing/);
      const dlqBefore = (await listDeadLetters(ctx.stores.kafka, 'qtshop.order')).length;
      await db.raw('alter table stock_decisions rename to stock_decisions_away');
      ctx.note('inventory: stock_decisions renamed away');
      try {
        await sleep(4000);
      } finally {
        await db.raw('alter table stock_decisions_away rename to stock_decisions');
      }
      const restoredAt = Date.now();
      ctx.note('inventory: stock_decisions back');
      await waitUntil(async () => watch.seen(), { timeoutMs: 30_000, what: 'inventory /ready 503 naming the waiting partition' }).catch(() => undefined);
      const seen = await watch.stop();
      await healthy();
      return {
        recoveredMs: Date.now() - restoredAt,
        after: async () => {
          const out = invisible('a saga step failed', seen);
          const dead = (await listDeadLetters(ctx.stores.kafka, 'qtshop.order')).length - dlqBefore;
          if (dead > 0) out.push({ category: 'lost', message: `${dead} OrderPlaced dead-lettered instead of retried` });
          ctx.note(`visible: ${seen ?? 'no'}; dead-lettered: ${dead}`);
          return out;
        },
      };
    },
  },
];
