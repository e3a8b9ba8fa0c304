// Each invariant holds on a consistent snapshot and fails, naming what broke, when its property is broken by hand.
import {
  checkAll,
  checkAppliedOnce,
  checkConverged,
  checkDelivered,
  checkOrders,
  checkRefills,
  checkReleases,
  checkVersionOrder,
  checkVersionsConsistent,
  type Snapshot,
} from './invariants';

const P = '11111111-1111-4111-8111-111111111111';
const O = '22222222-2222-4222-8222-222222222222';
const ids = { created: 'e-created', updated: 'e-updated', qty: 'e-qty', placed: 'e-placed', reserved: 'e-reserved', confirmed: 'e-confirmed' };

/**
 * One product created, updated (v2) and stocked; one order of 2 placed, reserved and confirmed, its basket
 * refilled right after with a line of the product; every consumer caught up.
 */
function consistent(): Snapshot {
  const outbox = [
    { id: ids.created, database: 'catalog', topic: 'qtshop.product', type: 'ProductCreated', aggregateId: P, quarantined: false },
    { id: ids.updated, database: 'catalog', topic: 'qtshop.product', type: 'ProductUpdated', aggregateId: P, quarantined: false },
    { id: ids.qty, database: 'inventory', topic: 'qtshop.inventory', type: 'ProductQuantityUpdated', aggregateId: P, quarantined: false },
    { id: ids.placed, database: 'orders', topic: 'qtshop.order', type: 'OrderPlaced', aggregateId: O, quarantined: false },
    { id: ids.reserved, database: 'inventory', topic: 'qtshop.inventory', type: 'OrderStockReserved', aggregateId: O, quarantined: false },
    { id: ids.confirmed, database: 'orders', topic: 'qtshop.order', type: 'OrderConfirmed', aggregateId: O, quarantined: false },
  ];
  const records = outbox.map((r) => ({ id: r.id, topic: r.topic, type: r.type, key: r.aggregateId }));
  const consumers = {
    catalog: { topics: ['qtshop.inventory'], types: ['ProductQuantityUpdated'] },
    inventory: { topics: ['qtshop.product', 'qtshop.order'], types: ['ProductCreated', 'ProductUpdated', 'OrderPlaced'] },
    'order-query': { topics: ['qtshop.order'], types: ['OrderPlaced', 'OrderConfirmed', 'OrderRejected'] },
  };
  const row = (consumer: string, eventId: string, type: string, aggregateId: string, version: number, at: number) => ({
    consumer,
    eventId,
    type,
    aggregateId,
    version,
    outcome: 'applied',
    at,
  });
  return {
    outbox,
    records,
    inbox: [
      row('catalog', ids.qty, 'ProductQuantityUpdated', P, 3, 3),
      row('inventory', ids.created, 'ProductCreated', P, 1, 1),
      row('inventory', ids.updated, 'ProductUpdated', P, 2, 2),
      row('inventory', ids.placed, 'OrderPlaced', O, 1, 4),
      row('order-query', ids.placed, 'OrderPlaced', O, 1, 5),
      row('order-query', ids.confirmed, 'OrderConfirmed', O, 2, 6),
    ],
    products: [
      {
        productId: P,
        catalog: { price: 1200, version: 2, quantity: 8, stockVersion: 3 },
        inventory: { quantity: 8, version: 3, productVersion: 2 },
        basketCache: { price: 1200, version: 2 },
        orderCommand: { price: 1200, productVersion: 2 },
        initialStock: 10,
        adjusted: 0,
      },
    ],
    basketLines: [{ basketId: 'kept', productId: P, price: 1200, productVersion: 2 }],
    orders: [
      {
        orderId: O,
        lines: [{ productId: P, quantity: 2 }],
        commandOutcomes: ['OrderConfirmed'],
        queryStatus: 'Confirmed',
        stockDecisions: 1,
        decision: { version: 1, outcome: 'reserved' },
      },
    ],
    refills: [{ basketId: 'refilled', productId: P }],
    refilledBaskets: [{ basketId: 'refilled', deleted: false, productIds: ['other', P] }],
    acknowledged: [O],
    expectedQuarantined: [],
    injected: [],
    consumers,
  };
}

const messages = (vs: Array<{ category: string; message: string }>) => vs.map((v) => `${v.category}: ${v.message}`);

describe('chaos invariants', () => {
  it('all hold on a consistent snapshot', () => {
    expect(checkAll(consistent())).toEqual({ events: 6, duplicatesDelivered: 0, quarantined: 0, violations: [] });
  });

  it('counts a second record of one event id as a duplicate delivered, not a violation', () => {
    const s = consistent();
    s.records.push({ ...s.records[0]! });
    expect(checkAll(s)).toMatchObject({ duplicatesDelivered: 1, violations: [] });
  });

  it('finds an outbox row that is not on Kafka: lost', () => {
    const s = consistent();
    s.records = s.records.filter((r) => r.id !== ids.updated);
    expect(messages(checkDelivered(s))).toEqual([`lost: catalog outbox row ${ids.updated} (ProductUpdated ${P}) is not on qtshop.product`]);
  });

  it('finds a poison row that was not quarantined, and passes one that was', () => {
    const s = consistent();
    s.outbox.push({ id: 'poison', database: 'catalog', topic: 'qtshop.product', type: 'ProductUpdated', aggregateId: 'x', quarantined: false });
    s.expectedQuarantined = ['poison'];
    expect(messages(checkDelivered(s))).toEqual(['lost: catalog outbox row poison is poison but was not quarantined']);
    s.outbox.at(-1)!.quarantined = true;
    expect(checkDelivered(s)).toEqual([]);
  });

  it('finds an event a consumer handles but has no record of: not applied', () => {
    const s = consistent();
    s.inbox = s.inbox.filter((r) => !(r.consumer === 'inventory' && r.eventId === ids.updated));
    expect(messages(checkAppliedOnce(s))).toEqual([`not_applied: inventory has no record of ProductUpdated ${ids.updated} (key ${P})`]);
  });

  it('finds an event applied twice: twice in an inbox, a stock decision taken twice, two outcomes', () => {
    const s = consistent();
    s.inbox.push({ ...s.inbox[1]! });
    s.orders[0]!.stockDecisions = 2;
    s.orders[0]!.commandOutcomes = ['OrderConfirmed', 'OrderRejected'];
    expect(checkAppliedOnce(s).map((v) => v.category)).toEqual(['applied_twice', 'applied_twice', 'applied_twice', 'applied_twice']);
  });

  it('finds one version of an aggregate applied twice under different event ids', () => {
    const s = consistent();
    s.inbox.push({ consumer: 'inventory', eventId: 'again', type: 'OrderPlaced', aggregateId: O, version: 1, outcome: 'applied', at: 7 });
    expect(messages(checkAppliedOnce(s))).toEqual([`applied_twice: inventory applied OrderPlaced v1 of ${O} 2 times, under different event ids`]);
    expect(checkVersionOrder(s)).toEqual([]);
    s.inbox.at(-1)!.outcome = 'stale';
    expect(checkAppliedOnce(s)).toEqual([]);
  });

  it('finds an older version applied after a newer one', () => {
    const s = consistent();
    s.inbox.find((r) => r.eventId === ids.created)!.at = 10;
    expect(messages(checkVersionOrder(s))).toEqual([`order: inventory applied ProductCreated v1 of ${P} after v2`]);
  });

  it('ignores stale outcomes, and order-query filling in an OrderPlaced after the outcome', () => {
    const s = consistent();
    s.inbox.push({ consumer: 'inventory', eventId: 'late', type: 'ProductUpdated', aggregateId: P, version: 1, outcome: 'stale', at: 20 });
    s.inbox.find((r) => r.consumer === 'order-query' && r.type === 'OrderPlaced')!.at = 30;
    expect(checkVersionOrder(s)).toEqual([]);
  });

  it('finds a copy that diverged from its owner: basket cache, order-command price, inventory quantity, a basket line', () => {
    const s = consistent();
    const p = s.products[0]!;
    p.basketCache = { price: 1100, version: 1 };
    p.orderCommand = { price: 1100, productVersion: 1 };
    p.catalog.quantity = 9;
    s.basketLines[0]!.price = 1100;
    expect(checkConverged(s).map((v) => v.message.split(':')[0])).toEqual([`product ${P}`, `product ${P}`, `product ${P}`, 'basket kept']);
  });

  it('finds an order without outcome, one settled differently in order-query, and stock not conserved', () => {
    const s = consistent();
    s.orders.push({ orderId: 'o2', lines: [{ productId: P, quantity: 1 }], commandOutcomes: [], stockDecisions: 0 });
    s.orders[0]!.queryStatus = 'Pending';
    s.products[0]!.inventory!.quantity = 6; // reserved twice
    expect(messages(checkOrders(s))).toEqual([
      `unsettled: order ${O}: order-command Confirmed, order-query Pending`,
      'unsettled: order o2 has no outcome in order-command',
      `stock: product ${P}: stock 6, expected 8 (initial 10 + adjustments 0 − confirmed 2)`,
    ]);
  });

  it('takes Confirmed then Cancelled as the life of one order, and finds a second cancel or a second stock outcome: applied twice', () => {
    const s = consistent();
    const o = s.orders[0]!;
    o.commandOutcomes = ['OrderConfirmed', 'OrderCancelled'];
    expect(checkAppliedOnce(s)).toEqual([]);
    o.commandOutcomes = ['OrderCancelled', 'OrderCancelled'];
    expect(messages(checkAppliedOnce(s))).toEqual([`applied_twice: order ${O} was cancelled 2 times: OrderCancelled, OrderCancelled`]);
    o.commandOutcomes = ['OrderConfirmed', 'OrderRejected', 'OrderCancelled'];
    expect(messages(checkAppliedOnce(s))).toEqual([`applied_twice: order ${O} has 2 outcomes: OrderConfirmed, OrderRejected, OrderCancelled`]);
  });

  it('settles an order by its last outcome: a confirmed order cancelled since must show Cancelled in order-query', () => {
    const s = consistent();
    const o = s.orders[0]!;
    o.commandOutcomes = ['OrderConfirmed', 'OrderCancelled'];
    o.decision = { version: 2, outcome: 'reserved' };
    s.products[0]!.inventory!.quantity = 10; // given back
    expect(messages(checkOrders(s))).toEqual([`unsettled: order ${O}: order-command Cancelled, order-query Confirmed`]);
    o.queryStatus = 'Cancelled';
    expect([...checkOrders(s), ...checkReleases(s)]).toEqual([]);
  });

  it('conserves stock with adjustments: initial + adjustments − confirmed, and finds it broken', () => {
    const s = consistent();
    const p = s.products[0]!;
    p.adjusted = 5;
    p.inventory!.quantity = 13;
    expect(checkOrders(s)).toEqual([]);
    p.inventory!.quantity = 8; // the adjustment lost (or a cancelled order's stock taken again)
    expect(messages(checkOrders(s))).toEqual([`stock: product ${P}: stock 8, expected 13 (initial 10 + adjustments 5 − confirmed 2)`]);
    // A cancelled order's stock counts as given back: 10 + 5 − 0.
    s.orders[0]!.commandOutcomes = ['OrderConfirmed', 'OrderCancelled'];
    s.orders[0]!.queryStatus = 'Cancelled';
    expect(messages(checkOrders(s))).toEqual([`stock: product ${P}: stock 8, expected 15 (initial 10 + adjustments 5 − confirmed 0)`]);
  });

  it('finds a cancelled order, or a rejected one whose stock was reserved, not released once; and a confirmed one released', () => {
    const s = consistent();
    const { decision: _taken, ...base } = s.orders[0]!;
    const order = (orderId: string, commandOutcomes: string[], decision?: { version: number; outcome: string | null }) => ({
      ...base,
      orderId,
      commandOutcomes,
      ...(decision ? { decision } : {}),
    });
    s.orders = [
      order('cancelled-released', ['OrderConfirmed', 'OrderCancelled'], { version: 2, outcome: 'reserved' }),
      order('cancelled-void', ['OrderCancelled'], { version: 2, outcome: 'void' }),
      order('rejected-refused', ['OrderRejected'], { version: 1, outcome: 'rejected' }),
      order('rejected-late-released', ['OrderRejected'], { version: 2, outcome: 'reserved' }),
      order('pending', []),
    ];
    expect(checkReleases(s)).toEqual([]);
    s.orders = [
      order('cancelled-kept', ['OrderConfirmed', 'OrderCancelled'], { version: 1, outcome: 'reserved' }),
      order('cancelled-undecided', ['OrderCancelled']),
      order('rejected-late-kept', ['OrderRejected'], { version: 1, outcome: 'reserved' }),
      order('confirmed-released', ['OrderConfirmed'], { version: 2, outcome: 'reserved' }),
      order('confirmed-undecided', ['OrderConfirmed']),
    ];
    expect(messages(checkReleases(s))).toEqual([
      'stock: order cancelled-kept ended Cancelled, but its stock decision is at version 1 (reserved), not released once (version 2)',
      'stock: order cancelled-undecided ended Cancelled, but its stock decision is missing, not released once (version 2)',
      'stock: order rejected-late-kept ended Rejected after its stock was reserved, but its stock decision is at version 1 (reserved), not released once (version 2)',
      'stock: order confirmed-released ended Confirmed, but its stock decision is at version 2 (reserved), not a reservation kept (version 1, reserved)',
      'stock: order confirmed-undecided ended Confirmed, but its stock decision is missing, not a reservation kept (version 1, reserved)',
    ]);
  });

  it('finds a line added to a basket after its order lost: the line gone, the basket deleted, the basket gone', () => {
    const s = consistent();
    s.refills = [
      { basketId: 'refilled', productId: 'other' },
      { basketId: 'refilled', productId: 'missing' },
      { basketId: 'deleted', productId: P },
      { basketId: 'gone', productId: P },
    ];
    s.refilledBaskets.push({ basketId: 'deleted', deleted: true, productIds: [] });
    expect(messages(checkRefills(s))).toEqual([
      'lost: basket refilled lost its line missing added after the order',
      `lost: refilled basket deleted was deleted, losing its line ${P} added after the order`,
      `lost: refilled basket gone is gone, and with it its line ${P} added after the order`,
    ]);
  });

  it('finds an order answered 201 that order-command does not hold: lost', () => {
    const s = consistent();
    s.acknowledged.push('33333333-3333-4333-8333-333333333333');
    expect(messages(checkOrders(s))).toEqual(["lost: order 33333333-3333-4333-8333-333333333333 was answered 201 but is not in order-command's stream"]);
  });

  it('finds versions gone backwards: a copy ahead of its owner, an event on Kafka its outbox no longer has', () => {
    expect(checkVersionsConsistent(consistent())).toEqual([]);
    const s = consistent();
    // The catalog's database lost v2 (a failover to a standby without it): every copy still holds v2.
    s.products[0]!.catalog.version = 1;
    s.outbox = s.outbox.filter((r) => r.id !== ids.updated);
    expect(messages(checkVersionsConsistent(s))).toEqual([
      `backwards: product ${P}: basket cache holds v2, the catalog only v1`,
      `backwards: product ${P}: order-command holds v2, the catalog only v1`,
      `backwards: product ${P}: inventory holds v2, the catalog only v1`,
      `backwards: basket kept: line ${P} at v2, the catalog only v1`,
      'backwards: ProductUpdated e-updated on qtshop.product: on Kafka, but not in its outbox',
    ]);
    const r = consistent();
    r.records.push({ id: 'e-again', topic: 'qtshop.product', type: 'ProductCreated', key: P });
    expect(messages(checkVersionsConsistent(r))).toEqual(['backwards: ProductCreated e-again on qtshop.product: on Kafka, but not in its outbox']);
    r.injected.push('e-again'); // published by the scenario itself (a stale redelivery), not lost from an outbox
    expect(checkVersionsConsistent(r)).toEqual([]);
    const t = consistent();
    t.products[0]!.inventory!.version = 2; // inventory lost the stock change the catalog already applied
    expect(messages(checkVersionsConsistent(t))).toEqual([`backwards: product ${P}: catalog holds stock v3, inventory only v2`]);
  });
});
