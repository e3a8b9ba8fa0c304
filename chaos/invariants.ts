// The invariants `npm run chaos` checks after every scenario, as pure functions of a snapshot that
// chaos/snapshot.ts reads from the databases and topics. Each check names what broke; the unit tests
// break each property by hand and see its check fail.
import { EVENTS, isEventType } from '@qtshop/shared/events';

/** An outbox row of the run, in any of the outbox databases. */
export interface OutboxRow {
  id: string;
  database: string;
  topic: string;
  type: string;
  aggregateId: string;
  quarantined: boolean;
}

/** A record read from a shop topic (the same event id may be there more than once). */
export interface TopicRecord {
  id: string;
  topic: string;
  type: string;
  key: string;
}

/** An inbox row of one consumer: what it did with one event id. */
export interface InboxRow {
  consumer: string;
  eventId: string;
  type: string;
  aggregateId: string | null;
  version: number | null;
  outcome: string | null;
  /** When it was recorded (ms): the order the consumer applied events in. */
  at: number;
}

export interface ProductState {
  productId: string;
  catalog: { price: number; version: number; quantity: number; stockVersion: number };
  inventory?: { quantity: number; version: number; productVersion: number };
  basketCache?: { price: number; version: number };
  orderCommand?: { price: number; productVersion: number };
  /** Stock set once at the start of the run; then only orders and adjustments change it (undefined: restocked during the run). */
  initialStock?: number;
  /** The sum of the deltas of the product's adjustments in inventory's ledger (stock_adjustments, kind adjustment) since then. */
  adjusted?: number;
}

export interface BasketLineState {
  basketId: string;
  productId: string;
  price: number;
  productVersion: number;
}

export interface OrderState {
  orderId: string;
  lines: Array<{ productId: string; quantity: number }>;
  /** The outcomes in order-command's stream (OrderConfirmed / OrderRejected / OrderCancelled), in stream order. */
  commandOutcomes: string[];
  queryStatus?: string;
  /** OrderStockReserved / OrderStockRejected rows inventory wrote for the order. */
  stockDecisions: number;
  /**
   * Inventory's stock decision for the order (stock_decisions): version 1 when taken (outcome reserved or
   * rejected), 2 once the order's end gave it back (released; void when the order ended before inventory
   * decided). Absent: inventory has none.
   */
  decision?: { version: number; outcome: string | null };
}

/** A basket the load refilled right after its order, as stored. */
export interface RefilledBasket {
  basketId: string;
  deleted: boolean;
  productIds: string[];
}

export interface Snapshot {
  outbox: OutboxRow[];
  records: TopicRecord[];
  inbox: InboxRow[];
  products: ProductState[];
  basketLines: BasketLineState[];
  orders: OrderState[];
  /** The lines the load added to baskets right after ordering them (basket, product): each must still be there. */
  refills: Array<{ basketId: string; productId: string }>;
  /** Orders the shop answered 201 to: none may be missing from order-command's stream (a failover that lost an acknowledged commit). */
  acknowledged: string[];
  /** The refilled baskets (absent: not found). */
  refilledBaskets: RefilledBasket[];
  /** Event ids the scenario made poison on purpose: they must be quarantined, not delivered. */
  expectedQuarantined: string[];
  /** Event ids the scenario published on the topics itself (a stale redelivery): from no outbox. */
  injected: string[];
  /** Per consumer, the topics it reads and the event types it handles. */
  consumers: Record<string, { topics: string[]; types: string[] }>;
}

/**
 * Scenarios' own checks: `unfenced`, a relay that lost its outbox lock published after the new owner took
 * over; `invisible`, a fault no /ready reported while it lasted.
 */
export type Category = 'lost' | 'not_applied' | 'applied_twice' | 'order' | 'backwards' | 'diverged' | 'unsettled' | 'stock' | 'unfenced' | 'invisible';

export interface Violation {
  category: Category;
  message: string;
}

export interface Checked {
  events: number;
  /** Records on Kafka beyond the first per event id (repair + Debezium both published it): harmless, counted. */
  duplicatesDelivered: number;
  quarantined: number;
  violations: Violation[];
}

const v = (category: Category, message: string): Violation => ({ category, message });

/** Every outbox row is on its topic, except the poison rows, which are quarantined instead. */
export function checkDelivered(s: Snapshot): Violation[] {
  const onKafka = new Set(s.records.map((r) => `${r.topic}\0${r.id}`));
  const poison = new Set(s.expectedQuarantined);
  const out: Violation[] = [];
  for (const row of s.outbox) {
    if (poison.has(row.id)) {
      if (!row.quarantined) out.push(v('lost', `${row.database} outbox row ${row.id} is poison but was not quarantined`));
    } else if (!onKafka.has(`${row.topic}\0${row.id}`)) {
      out.push(v('lost', `${row.database} outbox row ${row.id} (${row.type} ${row.aggregateId}) is not on ${row.topic}`));
    }
  }
  for (const id of poison) if (!s.outbox.some((r) => r.id === id)) out.push(v('lost', `poison row ${id} is not in any outbox`));
  return out;
}

/** Each consumer recorded each event it handles exactly once: none missing, none twice. */
export function checkAppliedOnce(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const seen = new Map<string, number>();
  for (const r of s.inbox) seen.set(`${r.consumer}\0${r.eventId}`, (seen.get(`${r.consumer}\0${r.eventId}`) ?? 0) + 1);
  for (const [k, n] of seen) if (n > 1) out.push(v('applied_twice', `${k.replace('\0', ' recorded event ')} ${n} times`));
  const events = new Map(s.records.map((r) => [`${r.topic}\0${r.id}`, r]));
  for (const [consumer, c] of Object.entries(s.consumers)) {
    for (const r of events.values()) {
      if (!c.topics.includes(r.topic) || !c.types.includes(r.type)) continue;
      if (!seen.has(`${consumer}\0${r.id}`)) out.push(v('not_applied', `${consumer} has no record of ${r.type} ${r.id} (key ${r.key})`));
    }
  }
  // The same state change applied under two event ids (an event published again under a new id, which the
  // inbox cannot recognise): the handler should have found the second stale.
  const applied = new Map<string, number>();
  for (const r of s.inbox) {
    if (r.outcome !== 'applied' || r.version === null || r.aggregateId === null) continue;
    const k = `${r.consumer} applied ${r.type} v${r.version} of ${r.aggregateId}`;
    applied.set(k, (applied.get(k) ?? 0) + 1);
  }
  for (const [k, n] of applied) if (n > 1) out.push(v('applied_twice', `${k} ${n} times, under different event ids`));
  for (const o of s.orders) {
    if (o.stockDecisions > 1) out.push(v('applied_twice', `inventory decided the stock of order ${o.orderId} ${o.stockDecisions} times`));
    // One stock outcome (Confirmed or Rejected) at most, and one cancel at most: Confirmed then Cancelled is an order's life.
    const decided = o.commandOutcomes.filter((t) => t !== 'OrderCancelled');
    const cancels = o.commandOutcomes.length - decided.length;
    if (decided.length > 1) out.push(v('applied_twice', `order ${o.orderId} has ${decided.length} outcomes: ${o.commandOutcomes.join(', ')}`));
    if (cancels > 1) out.push(v('applied_twice', `order ${o.orderId} was cancelled ${cancels} times: ${o.commandOutcomes.join(', ')}`));
  }
  return out;
}

/**
 * Per consumer and aggregate, the versions it applied never go back (the same one twice is applied_twice).
 * One exception, by design: order-query
 * fills an order's lines in from an OrderPlaced that arrives after the outcome, keeping the status.
 */
export function checkVersionOrder(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const byAggregate = new Map<string, InboxRow[]>();
  for (const r of s.inbox) {
    if (r.outcome !== 'applied' || r.version === null || r.aggregateId === null || !isEventType(r.type)) continue;
    if (r.consumer === 'order-query' && r.type === 'OrderPlaced') continue;
    const k = `${r.consumer}\0${EVENTS[r.type].aggregateType}\0${r.aggregateId}`;
    byAggregate.set(k, [...(byAggregate.get(k) ?? []), r]);
  }
  for (const rows of byAggregate.values()) {
    rows.sort((a, b) => a.at - b.at);
    for (let i = 1; i < rows.length; i++) {
      const [prev, cur] = [rows[i - 1]!, rows[i]!];
      if (cur.version! < prev.version!) {
        out.push(v('order', `${cur.consumer} applied ${cur.type} v${cur.version} of ${cur.aggregateId} after v${prev.version}`));
      }
    }
  }
  return out;
}

/** Every copy of a product agrees with the catalog: price and version in basket, order-command, inventory; quantity in catalog. */
export function checkConverged(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const products = new Map(s.products.map((p) => [p.productId, p]));
  for (const p of s.products) {
    const c = p.catalog;
    const tag = `product ${p.productId}`;
    if (!p.basketCache || p.basketCache.price !== c.price || p.basketCache.version !== c.version)
      out.push(
        v(
          'diverged',
          `${tag}: catalog price ${c.price} v${c.version}, basket cache ${p.basketCache ? `${p.basketCache.price} v${p.basketCache.version}` : 'missing'}`,
        ),
      );
    if (!p.orderCommand || p.orderCommand.price !== c.price || p.orderCommand.productVersion !== c.version)
      out.push(
        v(
          'diverged',
          `${tag}: catalog price ${c.price} v${c.version}, order-command ${p.orderCommand ? `${p.orderCommand.price} v${p.orderCommand.productVersion}` : 'missing'}`,
        ),
      );
    if (!p.inventory || p.inventory.productVersion !== c.version)
      out.push(v('diverged', `${tag}: catalog v${c.version}, inventory holds v${p.inventory?.productVersion ?? 'missing'}`));
    if (!p.inventory || p.inventory.quantity !== c.quantity || p.inventory.version !== c.stockVersion)
      out.push(
        v(
          'diverged',
          `${tag}: catalog quantity ${c.quantity} (stock v${c.stockVersion}), inventory ${p.inventory ? `${p.inventory.quantity} v${p.inventory.version}` : 'missing'}`,
        ),
      );
  }
  for (const l of s.basketLines) {
    const p = products.get(l.productId);
    if (p && (l.price !== p.catalog.price || l.productVersion !== p.catalog.version))
      out.push(v('diverged', `basket ${l.basketId}: line ${l.productId} at ${l.price} v${l.productVersion}, catalog ${p.catalog.price} v${p.catalog.version}`));
  }
  return out;
}

/**
 * Versions never go backwards: no copy holds a version of an aggregate its owner does not have (a product
 * version above the catalog's, a stock version above inventory's), and every event on the shop topics is
 * in its outbox. Both fail when the owner's database lost commits whose events had already left (a
 * failover to a standby that never received them): the owner then writes those versions again as other
 * events, which the copies skip as already seen.
 */
export function checkVersionsConsistent(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const products = new Map(s.products.map((p) => [p.productId, p]));
  for (const p of s.products) {
    const c = p.catalog;
    const tag = `product ${p.productId}`;
    const ahead = (who: string, version: number | undefined) => {
      if (version !== undefined && version > c.version) out.push(v('backwards', `${tag}: ${who} holds v${version}, the catalog only v${c.version}`));
    };
    ahead('basket cache', p.basketCache?.version);
    ahead('order-command', p.orderCommand?.productVersion);
    ahead('inventory', p.inventory?.productVersion);
    if (p.inventory && c.stockVersion > p.inventory.version)
      out.push(v('backwards', `${tag}: catalog holds stock v${c.stockVersion}, inventory only v${p.inventory.version}`));
  }
  for (const l of s.basketLines) {
    const p = products.get(l.productId);
    if (p && l.productVersion > p.catalog.version)
      out.push(v('backwards', `basket ${l.basketId}: line ${l.productId} at v${l.productVersion}, the catalog only v${p.catalog.version}`));
  }
  const inOutbox = new Set(s.outbox.map((r) => `${r.topic}\0${r.id}`));
  const injected = new Set(s.injected);
  const gone = new Set(s.records.filter((r) => !inOutbox.has(`${r.topic}\0${r.id}`) && !injected.has(r.id)).map((r) => `${r.type} ${r.id} on ${r.topic}`));
  for (const g of gone) out.push(v('backwards', `${g}: on Kafka, but not in its outbox`));
  return out;
}

const STATUS: Record<string, 'Confirmed' | 'Rejected' | 'Cancelled'> = { OrderConfirmed: 'Confirmed', OrderRejected: 'Rejected', OrderCancelled: 'Cancelled' };

/** Where order-command left the order: its last outcome (undefined: none yet, still Pending). */
export const finalStatus = (o: OrderState): 'Confirmed' | 'Rejected' | 'Cancelled' | undefined => {
  const last = o.commandOutcomes.at(-1);
  return last === undefined ? undefined : STATUS[last];
};

/**
 * Every order is settled (its last outcome in order-command: Confirmed, Rejected or Cancelled) and
 * order-query shows that status; stock is conserved: for every product the run stocked once, inventory holds
 * its initial stock + its adjustments − the quantities of the orders that ended Confirmed (a cancelled order
 * gave back what it took; a rejected one took nothing or gave it back).
 */
export function checkOrders(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const known = new Set(s.orders.map((o) => o.orderId));
  for (const id of s.acknowledged) if (!known.has(id)) out.push(v('lost', `order ${id} was answered 201 but is not in order-command's stream`));
  const confirmed = new Map<string, number>();
  for (const o of s.orders) {
    const status = finalStatus(o);
    if (!status) out.push(v('unsettled', `order ${o.orderId} has no outcome in order-command`));
    else if (o.queryStatus !== status) out.push(v('unsettled', `order ${o.orderId}: order-command ${status}, order-query ${o.queryStatus ?? 'missing'}`));
    if (status === 'Confirmed') for (const l of o.lines) confirmed.set(l.productId, (confirmed.get(l.productId) ?? 0) + l.quantity);
  }
  for (const p of s.products) {
    if (p.initialStock === undefined || !p.inventory) continue;
    const adjusted = p.adjusted ?? 0;
    const taken = confirmed.get(p.productId) ?? 0;
    const expected = p.initialStock + adjusted - taken;
    if (p.inventory.quantity !== expected)
      out.push(
        v(
          'stock',
          `product ${p.productId}: stock ${p.inventory.quantity}, expected ${expected} (initial ${p.initialStock} + adjustments ${adjusted} − confirmed ${taken})`,
        ),
      );
  }
  return out;
}

/**
 * Each order's stock is given back exactly when it ended without being kept: an order that ended Cancelled,
 * and one Rejected after inventory reserved for it (a late reservation past the decision deadline), has its
 * stock decision at version 2 (released once; void if it ended before inventory decided); an order that
 * ended Confirmed keeps its reservation (version 1). An order still without outcome is unsettled, not this.
 */
export function checkReleases(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  for (const o of s.orders) {
    const status = finalStatus(o);
    const d = o.decision;
    const held = d ? `at version ${d.version} (${d.outcome ?? 'no outcome'})` : 'missing';
    if (status === 'Cancelled' && d?.version !== 2)
      out.push(v('stock', `order ${o.orderId} ended Cancelled, but its stock decision is ${held}, not released once (version 2)`));
    else if (status === 'Rejected' && d?.outcome === 'reserved' && d.version !== 2)
      out.push(v('stock', `order ${o.orderId} ended Rejected after its stock was reserved, but its stock decision is ${held}, not released once (version 2)`));
    else if (status === 'Confirmed' && (d?.version !== 1 || d.outcome !== 'reserved'))
      out.push(v('stock', `order ${o.orderId} ended Confirmed, but its stock decision is ${held}, not a reservation kept (version 1, reserved)`));
  }
  return out;
}

/** No line a shopper added after ordering is lost: each refilled basket still holds the line added then (and is not deleted). */
export function checkRefills(s: Snapshot): Violation[] {
  const baskets = new Map(s.refilledBaskets.map((b) => [b.basketId, b]));
  return s.refills.flatMap(({ basketId, productId }) => {
    const b = baskets.get(basketId);
    if (!b) return [v('lost', `refilled basket ${basketId} is gone, and with it its line ${productId} added after the order`)];
    if (b.deleted) return [v('lost', `refilled basket ${basketId} was deleted, losing its line ${productId} added after the order`)];
    if (!b.productIds.includes(productId)) return [v('lost', `basket ${basketId} lost its line ${productId} added after the order`)];
    return [];
  });
}

export function checkAll(s: Snapshot): Checked {
  const ids = new Map<string, number>();
  for (const r of s.records) ids.set(`${r.topic}\0${r.id}`, (ids.get(`${r.topic}\0${r.id}`) ?? 0) + 1);
  return {
    events: ids.size,
    duplicatesDelivered: [...ids.values()].reduce((sum, n) => sum + n - 1, 0),
    quarantined: s.outbox.filter((r) => r.quarantined).length,
    violations: [
      ...checkDelivered(s),
      ...checkAppliedOnce(s),
      ...checkVersionOrder(s),
      ...checkVersionsConsistent(s),
      ...checkConverged(s),
      ...checkOrders(s),
      ...checkReleases(s),
      ...checkRefills(s),
    ],
  };
}

export const countOf = (c: Checked, ...categories: Category[]) => c.violations.filter((x) => categories.includes(x.category)).length;
