// The failover drill of a stack with a PostgreSQL standby (STACK_PG_STANDBY; `npm run chaos -- --scenarios
// pg-failover` sets it): SIGKILL of the primary under load, `npm run stack -- failover`, and the figures an
// operator asks for: how long until orders are accepted again, until Debezium streams again, until the
// pipeline carries on; how many rows the relay's repair published and how many records were duplicates.
// STACK_PG_FAILOVER_SLOTS=false runs the same drill without failover slots.
import { waitUntil } from '@qtshop/shared/platform';
import { loadInfra } from '@qtshop/shared/infra';
import { inspectPgNodes, unsyncedSlots } from '@qtshop/shared/tooling';
import { loadStackConfig } from '../stack/config';
import { pgMemberName } from '../stack/components';
import { ordersSettledAfter } from './cluster-scenarios';
import { metricSum, type FaultContext, type Scenario } from './faults';
import { componentPid, runScript } from './shop';

const OUTBOXES = ['catalog', 'inventory', 'orders'] as const;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The first order placed after `since` (ms since it), once there is one. */
async function ordersAcceptedAfter(ctx: FaultContext, since: number): Promise<number> {
  let at = 0;
  await waitUntil(
    async () => {
      const row = await ctx.stores.pg.orders!('order_events')
        .where('type', 'OrderPlaced')
        .whereRaw('occurred_at > to_timestamp(?::double precision / 1000)', [since])
        .min<{ at: Date | null }>({ at: 'occurred_at' })
        .first();
      at = row?.at ? new Date(row.at).getTime() : 0;
      return at > 0;
    },
    { timeoutMs: 120_000, everyMs: 100, what: 'an order to be accepted after the failover' },
  );
  return at - since;
}

/**
 * Debezium streams again when, in every outbox database, a row written after the promotion is confirmed on
 * Kafka (sent_at) before the relay's repair published anything: repair waits OUTBOX_REPAIR_AFTER_MS, so
 * what arrives sooner is Debezium's. Returns ms since `since`, and whether repair had published first.
 */
async function debeziumStreamsAfter(
  ctx: FaultContext,
  since: number,
  promotedAt: number,
  repairedBefore: number,
): Promise<{ ms: number; repairFirst: boolean }> {
  const done = new Map<string, number>();
  let repairFirst = false;
  await waitUntil(
    async () => {
      for (const db of OUTBOXES) {
        if (done.has(db)) continue;
        const row = await ctx.stores.pg[db]!('outbox')
          .whereRaw('created_at > to_timestamp(?::double precision / 1000)', [promotedAt])
          .whereNotNull('sent_at')
          .first('id');
        if (row) done.set(db, Date.now());
      }
      if (done.size < OUTBOXES.length && (await metricSum('relay', 'relay_repaired_total')) > repairedBefore) repairFirst = true;
      return done.size === OUTBOXES.length;
    },
    { timeoutMs: 180_000, everyMs: 250, what: 'rows written after the promotion to be delivered from every outbox' },
  );
  return { ms: Math.max(...done.values()) - since, repairFirst };
}

/**
 * Orders placed after the promotion at a price set after it (the product's ProductUpdated written on the
 * new primary, then the order at that price accepted by order-command): a price change after the failover
 * reached order-command. Returns how many.
 */
async function ordersAtNewPrices(ctx: FaultContext, promotedAt: number): Promise<number> {
  const since = [promotedAt];
  const changes = await ctx.stores.pg.catalog!('outbox')
    .where('type', 'ProductUpdated')
    .whereRaw('created_at > to_timestamp(?::double precision / 1000)', since)
    .whereRaw('aggregateid = any(?)', [ctx.load.scope.productIds])
    .select<Array<{ aggregateid: string; price: number; at: Date }>>(
      'aggregateid',
      ctx.stores.pg.catalog!.raw("(payload->>'price')::int as price"),
      'created_at as at',
    );
  const placed = await ctx.stores.pg.orders!('order_events')
    .where('type', 'OrderPlaced')
    .whereRaw(`data->>'basketId' like ?`, [`${ctx.load.scope.basketPrefix}%`])
    .whereRaw('occurred_at > to_timestamp(?::double precision / 1000)', since)
    .select<Array<{ data: { items: Array<{ productId: string; price: number }> }; at: Date }>>('data', 'occurred_at as at');
  return placed.filter((o) =>
    o.data.items.some((i) => changes.some((c) => c.aggregateid === i.productId && c.price === i.price && new Date(c.at) < new Date(o.at))),
  ).length;
}

export const HA_SCENARIOS: Scenario[] = [
  {
    name: 'pg-failover',
    standby: true,
    what: "SIGKILL of the PostgreSQL primary (its whole process group, as a lost machine) under load, then `npm run stack -- failover` promotes the standby and the proxy moves the primary's address; once the pipeline carries on, the old primary is rebuilt as the standby",
    fault: async (ctx) => {
      const stack = loadStackConfig();
      const infra = loadInfra();
      const slotsOn = stack.pgHa.failoverSlots;
      // The drill only means something when the standby holds what a failover needs: wait for the copies.
      let nodes = await inspectPgNodes(infra);
      if (slotsOn)
        await waitUntil(async () => unsyncedSlots((nodes = await inspectPgNodes(infra))).length === 0, {
          timeoutMs: 120_000,
          everyMs: 1000,
          what: 'the failover slots to have their copies on the standby',
        });
      if (!slotsOn && nodes.some((n) => n.role === 'standby' && n.slots.some((s) => s.synced))) {
        // Copies made while failover slots were on would still be promoted: a standby without them first.
        const r = await runScript('stack/cli.ts', ['rebuild-standby', '--fresh']);
        if (r.code !== 0) throw new Error(`npm run stack -- rebuild-standby --fresh failed:\n${r.output.slice(-2000)}`);
        ctx.note('the standby held slot copies from a run with failover slots: rebuilt without them first');
        nodes = await inspectPgNodes(infra);
      }
      const primary = nodes.find((n) => n.role === 'primary');
      const standby = nodes.find((n) => n.role === 'standby');
      if (!primary || !standby) throw new Error(`no primary and standby to fail over (${nodes.map((n) => `node ${n.id}: ${n.role}`).join(', ')})`);
      ctx.note(
        `failover slots ${slotsOn ? 'on' : 'off'}, ${stack.pgHa.synchronous ? 'synchronous' : 'asynchronous'} commit; the primary has ${primary.slots.length} logical slot(s) (${primary.slots.filter((s) => s.failover).length} for failover), the standby ${standby.slots.filter((s) => s.synced).length} synchronized cop(ies)`,
      );
      const repairedBefore = await metricSum('relay', 'relay_repaired_total');
      const pid = componentPid(pgMemberName(primary.id));
      if (!pid) throw new Error(`${pgMemberName(primary.id)} is not running`);
      const at = Date.now();
      process.kill(-pid, 'SIGKILL');
      ctx.note(`SIGKILL ${pgMemberName(primary.id)} (the primary, process group ${pid})`);

      const r = await runScript('stack/cli.ts', ['failover']);
      const line = r.output.split('\n').find((l) => l.startsWith('{"failover"'));
      if (r.code !== 0 || !line) throw new Error(`npm run stack -- failover failed:\n${r.output.slice(-2000)}`);
      const report = (JSON.parse(line) as { failover: { addressMovedMs: number; promotedMs: number; slots: Array<{ name: string; failover: boolean }> } })
        .failover;
      // The command reports from its own start: the promotion came (address moved − promoted) before its end.
      const promotedAt = Date.now() - (report.addressMovedMs - report.promotedMs);
      ctx.note(
        `npm run stack -- failover: ${pgMemberName(standby.id)} promoted ${secs(promotedAt - at)} after the kill, the address moved ${secs(Date.now() - at)} after it; slots on the new primary: ${report.slots.map((s) => `${s.name}${s.failover ? '' : ' (no failover)'}`).join(', ') || 'none'}`,
      );
      const accepted = await ordersAcceptedAfter(ctx, at);
      ctx.note(`orders accepted again ${secs(accepted)} after the kill`);
      const streams = await debeziumStreamsAfter(ctx, at, promotedAt, repairedBefore);
      ctx.note(
        `every outbox delivered a row written after the promotion ${secs(streams.ms)} after the kill${streams.repairFirst ? ' (the relay repair had published rows before that)' : ', before any repair: Debezium streams again'}`,
      );
      const recoveredMs = await ordersSettledAfter(ctx, at);

      const t = Date.now();
      const rebuilt = await runScript('stack/cli.ts', ['rebuild-standby']);
      if (rebuilt.code !== 0) throw new Error(`npm run stack -- rebuild-standby failed:\n${rebuilt.output.slice(-2000)}`);
      ctx.note(`${pgMemberName(primary.id)} rebuilt as the standby in ${secs(Date.now() - t)}`);
      return {
        recoveredMs,
        after: async () => {
          ctx.note(`rows published by the relay's repair during the scenario: ${(await metricSum('relay', 'relay_repaired_total')) - repairedBefore}`);
          const atNewPrices = await ordersAtNewPrices(ctx, promotedAt);
          ctx.note(`${atNewPrices} order(s) accepted by order-command at a price the catalog set after the promotion`);
          return atNewPrices > 0
            ? []
            : [
                {
                  category: 'diverged',
                  message: 'no order was accepted at a price set after the failover: order-command did not follow the catalog on the new primary',
                },
              ];
        },
      };
    },
  },
];
