// The scenarios of the clustered stack (npm run test:cluster): three brokers, two Kafka Connect workers
// and two instances of every service. Each kills one member with SIGKILL and measures how long the
// others take to carry on without it: the member stays down until the pipeline has recovered, so what
// recovers is the cluster, not a restart. The invariants afterwards are the chaos suite's own.
import { AssignerProtocol } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { loadInfra, type Knex } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';
import { isAlive } from '../stack/procs';
import { metricSum, type FaultContext, type Scenario } from './faults';
import { componentPid, instancePid, stackUp, waitReady } from './shop';
import { CONSUMERS, SHOP_TOPICS } from './snapshot';

/** Orders placed in this window after a fault are the probe: the pipeline has recovered when all have settled. */
const PROBE_WINDOW_MS = 5000;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function kill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await waitUntil(async () => !isAlive(pid), { timeoutMs: 10_000, everyMs: 50, what: `pid ${pid} to die` });
}

/**
 * Waits until every order of the run placed in the PROBE_WINDOW_MS after `since` (or, if none was, the
 * first placed after it) has its outcome in order-query: the order crossed every hop (the orders outbox,
 * inventory, the inventory outbox, order-command, order-query) after the fault. Orders their shopper
 * cancelled are not in the probe: their status in order-query ends Cancelled, which the cancel can reach
 * without the stock decision's hops (the load cancels within a second of placing, so the probe is read
 * again until it settles). Returns ms since `since`.
 */
export async function ordersSettledAfter(ctx: FaultContext, since: number): Promise<number> {
  const orders = ctx.stores.pg.orders!;
  const notCancelled = (q: Knex.QueryBuilder) =>
    q.whereNotExists(orders('order_events as c').whereRaw('c.order_id = order_events.order_id').where('c.type', 'OrderCancelled'));
  const placed = async (): Promise<string[]> => {
    const inWindow = await orders('order_events')
      .where('type', 'OrderPlaced')
      .modify(notCancelled)
      .whereRaw(`data->>'basketId' like ?`, [`${ctx.load.scope.basketPrefix}%`])
      .whereRaw('occurred_at >= to_timestamp(?::double precision / 1000) and occurred_at < to_timestamp(?::double precision / 1000)', [
        since,
        since + PROBE_WINDOW_MS,
      ])
      .pluck<string[]>('order_id');
    if (inWindow.length > 0 || Date.now() < since + PROBE_WINDOW_MS) return inWindow;
    return orders('order_events')
      .where('type', 'OrderPlaced')
      .modify(notCancelled)
      .whereRaw(`data->>'basketId' like ?`, [`${ctx.load.scope.basketPrefix}%`])
      .whereRaw('occurred_at >= to_timestamp(?::double precision / 1000)', [since])
      .orderBy('occurred_at')
      .limit(1)
      .pluck<string[]>('order_id');
  };
  let probe: string[] = [];
  await waitUntil(
    async () => {
      if (Date.now() < since + PROBE_WINDOW_MS) return false; // the window must be over before its orders are known
      probe = await placed();
      if (probe.length === 0) return false;
      const settled = await ctx.stores.pg.order_query!('orders')
        .whereRaw('order_id = any(?::uuid[])', [probe])
        .whereIn('status', ['Confirmed', 'Rejected'])
        .count<{ n: string }[]>({ n: '*' });
      return Number(settled[0]!.n) === probe.length;
    },
    { timeoutMs: 300_000, everyMs: 250, what: 'the orders placed after the fault to settle' },
  );
  const took = Date.now() - since;
  ctx.note(`the ${probe.length} order(s) placed in the ${PROBE_WINDOW_MS / 1000} s after the fault settled in order-query ${secs(took)} after it`);
  return took;
}

/** The broker that leads the most partitions of the shop's topics: losing it moves the most leaders. */
async function busiestBroker(ctx: FaultContext): Promise<number> {
  const admin = ctx.stores.kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [...SHOP_TOPICS] });
    const led = new Map<number, number>();
    for (const t of topics) for (const p of t.partitions) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    return [...led].sort((a, b) => b[1] - a[1])[0]![0];
  } finally {
    await admin.disconnect();
  }
}

/** True when every partition of the shop's topics has all its replicas in sync. */
async function fullyReplicated(ctx: FaultContext): Promise<boolean> {
  const admin = ctx.stores.kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [...SHOP_TOPICS] });
    return topics.every((t) => t.partitions.every((p) => p.isr.length === p.replicas.length));
  } finally {
    await admin.disconnect();
  }
}

/** Per member of a consumer group, the partitions it owns, as `topic:partition`. */
async function assignments(ctx: FaultContext, groupId: string): Promise<string[][]> {
  const admin = ctx.stores.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0];
    if (!g || g.state !== 'Stable') return [];
    return g.members.map((m) => {
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return Object.entries(a?.assignment ?? {}).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`));
    });
  } finally {
    await admin.disconnect();
  }
}

const connect = () => ConnectClient.of(loadInfra().connect, 5000);

/** Where each connector task runs: `connector/task` -> worker id (host:port), RUNNING tasks only. */
async function taskPlaces(): Promise<Map<string, string>> {
  const c = connect();
  const out = new Map<string, string>();
  for (const name of await c.list()) {
    const s = await c.status(name);
    for (const t of s.tasks) if (t.state === 'RUNNING') out.set(`${name}/${t.id}`, t.worker_id);
  }
  return out;
}

export const CLUSTER_SCENARIOS: Scenario[] = [
  {
    name: 'cluster-baseline',
    cluster: true,
    what: 'no fault: the probe of the scenarios below (the orders placed in 5 s settle) on the whole cluster, for reference',
    fault: async (ctx) => ({ recoveredMs: await ordersSettledAfter(ctx, Date.now()) }),
  },
  {
    name: 'kill-one-broker',
    cluster: true,
    what: 'SIGKILL of one of three brokers (the one leading the most shop partitions) under load; it stays down until the invariants hold',
    fault: async (ctx) => {
      const nodeId = await busiestBroker(ctx);
      const name = `kafka-${nodeId}`;
      const pid = componentPid(name);
      if (!pid) throw new Error(`${name} is not running`);
      const t = Date.now();
      await kill(pid);
      ctx.note(`SIGKILL ${name} (pid ${pid}), the leader of the most shop partitions; it stays down`);
      const recoveredMs = await ordersSettledAfter(ctx, t);
      return {
        recoveredMs,
        after: async () => {
          // The invariants held with two brokers; now the third comes back and catches up.
          const back = Date.now();
          await stackUp();
          await waitUntil(() => fullyReplicated(ctx), { timeoutMs: 180_000, everyMs: 500, what: 'every shop partition fully in sync again' });
          ctx.note(`${name} started again; every shop partition had its three replicas in sync ${secs(Date.now() - back)} later`);
          return [];
        },
      };
    },
  },
  {
    name: 'kill-one-connect-worker',
    cluster: true,
    what: 'SIGKILL of the Kafka Connect worker running the most connector tasks, under load; its tasks move to the other worker',
    fault: async (ctx) => {
      const before = await taskPlaces();
      const counts = new Map<string, number>();
      for (const w of before.values()) counts.set(w, (counts.get(w) ?? 0) + 1);
      const [victim] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
      if (!victim) throw new Error('no connector task is running');
      const worker = loadInfra().connect.workers.find((w) => victim.endsWith(`:${w.port}`));
      if (!worker) throw new Error(`worker ${victim} is not one of the stack's`);
      const name = `connect-${worker.id}`;
      const pid = componentPid(name);
      if (!pid) throw new Error(`${name} is not running`);
      const moving = [...before].filter(([, w]) => w === victim).map(([task]) => task);
      const repairedBefore = await metricSum('relay', 'relay_repaired_total');
      const t = Date.now();
      await kill(pid);
      ctx.note(`SIGKILL ${name} (pid ${pid}, ${victim}), running ${moving.join(', ')}; it stays down`);
      await waitUntil(
        async () => {
          const now = await taskPlaces().catch(() => new Map<string, string>());
          return [...before.keys()].every((task) => now.has(task) && now.get(task) !== victim);
        },
        { timeoutMs: 300_000, everyMs: 250, what: `the tasks of ${name} to run on another worker` },
      );
      const movedMs = Date.now() - t;
      ctx.note(`every task RUNNING on the other worker ${secs(movedMs)} after the kill`);
      const settledMs = await ordersSettledAfter(ctx, t);
      const repaired = (await metricSum('relay', 'relay_repaired_total')) - repairedBefore;
      ctx.note(`rows the relay repaired (published itself) meanwhile: ${repaired}`);
      return {
        recoveredMs: Math.max(movedMs, settledMs),
        after: async () => {
          await stackUp();
          ctx.note(`${name} started again and rejoined the group`);
          return [];
        },
      };
    },
  },
  {
    name: 'kill-one-inventory',
    cluster: true,
    what: 'SIGKILL of one of two inventory instances under load; the other takes its partitions (npm start restarts it only after SHOP_RESTART_BACKOFF_MS)',
    fault: async (ctx) => {
      const pid = instancePid('inventory', 2);
      if (!pid) throw new Error('inventory-2 is not running (the cluster run starts two instances of each service)');
      const group = 'qtshop-inventory';
      const wanted = (await assignments(ctx, group)).flat().sort();
      if (wanted.length === 0) throw new Error(`${group} has no stable assignment`);
      const topics = new Set<string>(CONSUMERS.inventory.topics);
      if (!wanted.every((p) => topics.has(p.slice(0, p.lastIndexOf(':'))))) throw new Error(`${group} owns partitions of topics it does not read`);
      const restarts = ctx.launcher.restarts();
      const t = Date.now();
      await kill(pid);
      ctx.note(`SIGKILL inventory-2 (pid ${pid}); ${group} owned ${wanted.length} partitions over two members`);
      await waitUntil(
        async () => {
          const members = await assignments(ctx, group);
          return members.length === 1 && JSON.stringify(members[0]!.sort()) === JSON.stringify(wanted);
        },
        { timeoutMs: 180_000, everyMs: 250, what: 'the surviving inventory instance to own every partition' },
      );
      const tookMs = Date.now() - t;
      ctx.note(
        `the surviving instance owned all ${wanted.length} partitions ${secs(tookMs)} after the kill (the group's session timeout ends the dead member)`,
      );
      const settledMs = await ordersSettledAfter(ctx, t);
      await waitUntil(async () => ctx.launcher.restarts() > restarts, { timeoutMs: 300_000, what: 'npm start to restart inventory-2' });
      await waitReady(120_000, ['inventory']);
      await waitUntil(async () => (await assignments(ctx, group)).length === 2, { timeoutMs: 180_000, everyMs: 500, what: 'two members in the group again' });
      ctx.note(`inventory-2 restarted by npm start and back in the group ${secs(Date.now() - t)} after the kill`);
      return { recoveredMs: Math.max(tookMs, settledMs) };
    },
  },
];
