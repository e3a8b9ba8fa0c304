// The faults `npm run chaos` injects while the load runs, one scenario each (types and shared helpers in
// chaos/faults.ts; the polling-mode scenarios in chaos/polling-scenarios.ts; those of the clustered stack,
// which npm run test:cluster runs, in chaos/cluster-scenarios.ts).
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { traceparentFrom } from '@qtshop/shared/observability';
import { healthy, killComponent, metricSum, type Scenario } from './faults';
import type { Violation } from './invariants';
import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { HA_SCENARIOS } from './ha-scenarios';
import { LIVENESS_SCENARIOS } from './liveness-scenarios';
import { POLLING_SCENARIOS } from './polling-scenarios';
import { runScript, servicePid, waitReady } from './shop';
import { SHOP_TOPICS } from './snapshot';

export const SCENARIOS: Scenario[] = [
  { name: 'baseline', what: 'no fault: the load alone', fault: async () => ({}) },
  {
    name: 'kill-consumer',
    what: 'SIGKILL of the inventory service (a consumer) under load; npm start restarts it',
    fault: async (ctx) => {
      const pid = servicePid('inventory');
      if (!pid) throw new Error('inventory is not running');
      const restarts = ctx.launcher.restarts();
      ctx.note(`SIGKILL inventory (pid ${pid})`);
      process.kill(pid, 'SIGKILL');
      await waitUntil(async () => ctx.launcher.restarts() > restarts, { timeoutMs: 60_000, what: 'npm start to restart inventory' });
      await waitReady(60_000, ['inventory']);
      return {};
    },
  },
  {
    name: 'kill-connect',
    what: 'SIGKILL of Kafka Connect (Debezium) under load, started again 3 s later',
    fault: async (ctx) => {
      await killComponent('connect', 'SIGKILL', 3000, ctx);
      await healthy();
      return {};
    },
  },
  {
    name: 'kill-broker',
    what: 'SIGKILL of the Kafka broker under load, started again 3 s later',
    fault: async (ctx) => {
      await killComponent('kafka', 'SIGKILL', 3000, ctx);
      await healthy();
      return {};
    },
  },
  {
    name: 'restart-postgres',
    what: 'PostgreSQL restarted (fast shutdown) under load',
    fault: async (ctx) => {
      await killComponent('postgres', 'SIGINT', 1000, ctx);
      await healthy();
      return {};
    },
  },
  {
    name: 'poison-row',
    what: 'a 1.5 MB row written into the catalog outbox by hand (over Kafka limit): quarantined, nothing waits behind it',
    fault: async (ctx) => {
      const id = randomUUID();
      const productId = randomUUID();
      ctx.note(`poison row ${id} (1.5 MB) in the catalog outbox`);
      await ctx.stores.pg.catalog!('outbox').insert({
        id,
        aggregatetype: 'product',
        aggregateid: productId,
        type: 'ProductUpdated',
        payload: JSON.stringify({ productId, name: 'x'.repeat(1_500_000), description: '', type: 't', brand: 'b', pictureUrl: '', price: 1, version: 2 }),
        traceparent: traceparentFrom(),
      });
      await waitUntil(async () => Boolean(await ctx.stores.pg.catalog!('outbox').where({ id }).whereNotNull('quarantined_at').first()), {
        timeoutMs: ctx.repairAfterMs + 60_000,
        what: 'the poison row to be quarantined',
      });
      return { expectedQuarantined: [id] };
    },
  },
  {
    name: 'connector-recreate',
    what: 'every connector deleted (slot dropped) and registered again under load: repair covers the gap',
    fault: async (ctx) => {
      ctx.note('npm run connect -- delete, then register');
      for (const args of [['delete'], ['register']]) {
        const r = await runScript('scripts/connect.ts', args);
        if (r.code !== 0) throw new Error(`npm run connect -- ${args[0]} failed:\n${r.output.slice(-2000)}`);
      }
      await healthy();
      return {};
    },
  },
  {
    name: 'connect-down',
    what: 'Kafka Connect stopped for longer than the repair threshold: the relay delivers meanwhile, Debezium takes over again after',
    fault: async (ctx) => {
      const before = await metricSum('relay', 'relay_repaired_total');
      await killComponent('connect', 'SIGTERM', ctx.repairAfterMs + 10_000, ctx);
      await healthy();
      const during = (await metricSum('relay', 'relay_repaired_total')) - before;
      return {
        after: async () => {
          const out: Violation[] = [];
          if (during === 0) out.push({ category: 'lost', message: 'the relay repaired nothing while Connect was down' });
          // Debezium carries the traffic again: what is written now is confirmed before the repair threshold, so repair stops growing.
          const settled = await metricSum('relay', 'relay_repaired_total');
          await new Promise((r) => setTimeout(r, ctx.repairAfterMs + 5000));
          const later = await metricSum('relay', 'relay_repaired_total');
          if (later > settled) out.push({ category: 'lost', message: `repair kept growing after Connect returned (${settled} → ${later})` });
          ctx.note(`repaired while Connect was down: ${during}; after it returned: ${later - settled}`);
          return out;
        },
      };
    },
  },
  {
    name: 'stale-redelivery',
    what: 'older events published again under new ids (ProductCreated of changed products, OrderPlaced of settled orders): skipped as stale',
    fault: async (ctx) => {
      const rows = await ctx.stores.pg.catalog!('outbox')
        .whereRaw('aggregateid = any(?)', [ctx.load.scope.productIds])
        .where('type', 'ProductCreated')
        .select('aggregateid', 'payload', 'type');
      // Settled orders of the run (their outcome is in the stream): wait for a few on a slow machine.
      const settledOrders = () =>
        ctx.stores.pg.orders!('outbox')
          .where('type', 'OrderPlaced')
          .whereRaw(`payload->>'basketId' like ?`, [`${ctx.load.scope.basketPrefix}%`])
          .whereExists((q) =>
            q.from('order_events').whereRaw('order_events.order_id::text = outbox.aggregateid').whereIn('type', ['OrderConfirmed', 'OrderRejected']),
          )
          .limit(5)
          .select<Array<{ aggregateid: string; payload: unknown; type: string }>>('aggregateid', 'payload', 'type');
      const orders = await waitUntil(
        async () => {
          const found = await settledOrders();
          return found.length >= 3 ? found : undefined;
        },
        { timeoutMs: 60_000, what: 'three settled orders of the run' },
      );
      const producer = ctx.stores.kafka.producer();
      const injected: string[] = [];
      await producer.connect();
      try {
        const send = (topic: string, r: { aggregateid: string; payload: unknown; type: string }) => {
          const id = randomUUID();
          injected.push(id);
          return producer.send({
            topic,
            messages: [{ key: r.aggregateid, value: JSON.stringify(r.payload), headers: { id, eventType: r.type, traceparent: traceparentFrom() } }],
          });
        };
        for (const r of rows) await send(SHOP_TOPICS[0], r);
        for (const r of orders) await send(SHOP_TOPICS[2], r);
      } finally {
        await producer.disconnect();
      }
      ctx.note(`published again under new ids: ${rows.length} ProductCreated, ${orders.length} OrderPlaced`);
      return { injected };
    },
  },
  ...LIVENESS_SCENARIOS,
  ...POLLING_SCENARIOS,
  ...CLUSTER_SCENARIOS,
  ...HA_SCENARIOS,
];
