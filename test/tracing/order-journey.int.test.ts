// One order journey is one trace: POST /orders on order-command, its transaction and its OrderPlaced outbox
// write, then inventory, order-command and order-query each consuming in the same trace through the
// record's traceparent header, whichever relay carried it; and the services' log lines carry its id.
// Every service runs in-process (as in test/orders/journey.int.test.ts) with its spans in memory.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { createLogger, waitUntil, type Logger } from '@qtshop/shared/platform';
import { addSpanProcessor } from '@qtshop/shared/observability';
import { basketForTest, type BasketForTest } from '../support/basket';
import { useRelay, type RelayHandle, type RelayMode } from '../support/relay';
import { ADMIN, asAdmin as http, catalogForTest, inventoryForTest, orderCommandForTest, orderQueryForTest } from '../support/services';

const spans = new InMemorySpanExporter();
addSpanProcessor(new SimpleSpanProcessor(spans));

/** Each service's log lines, parsed. */
const lines = new Map<string, Array<Record<string, unknown>>>();
function capturingLogger(service: string): Logger {
  const mine: Array<Record<string, unknown>> = [];
  lines.set(service, mine);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      mine.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  return createLogger(service, 'info', sink);
}

const serviceOf = (s: ReadableSpan) => String(s.resource.attributes['service.name']);
const describeSpan = (s: ReadableSpan) => `${serviceOf(s)}: ${s.name}`;

type Svc = Awaited<ReturnType<typeof catalogForTest>>;
const modes: RelayMode[] = ['debezium', 'polling'];

describe.each(modes)('an order placed with the %s relay', (mode) => {
  let relay: RelayHandle;
  let catalog: Svc, inventory: Svc, orderCommand: Svc, orderQuery: Svc;
  let basket: BasketForTest;

  beforeAll(async () => {
    relay = await useRelay(mode, ['catalog', 'inventory', 'orders']);
    catalog = await catalogForTest(capturingLogger('catalog'));
    inventory = await inventoryForTest(capturingLogger('inventory'));
    orderCommand = await orderCommandForTest({}, capturingLogger('order-command'));
    orderQuery = await orderQueryForTest({}, capturingLogger('order-query'));
    basket = await basketForTest({}, capturingLogger('basket'));
  }, 120_000);
  afterAll(async () => {
    for (const s of [basket, orderQuery, orderCommand, inventory, catalog]) await s?.stop();
    await relay?.stop();
  });

  const wait = <T>(what: string, probe: () => Promise<T | undefined | false>) => waitUntil(probe, { timeoutMs: 30_000, what });
  const finished = () => spans.getFinishedSpans();

  it('forms one trace from POST /orders through inventory and order-command to order-query, and its id is in their logs', async () => {
    const fields = { name: `Lamp ${randomUUID()}`, description: 'Brass', type: 'home', brand: 'Lumo', pictureUrl: '', price: 4900 };
    const productId: string = (await http('POST', `${catalog.url}/products`, fields, ADMIN)).json.id;
    await wait('inventory to know the product', async () => (await http('GET', `${inventory.url}/inventory/${productId}`)).status === 200);
    expect((await http('PUT', `${inventory.url}/inventory/${productId}`, { quantity: 5 }, ADMIN)).status).toBe(200);
    const placed = await wait('order-command to accept the order', async () => {
      const res = await http('POST', `${orderCommand.url}/orders`, { basketId: `b-${randomUUID()}`, items: [{ productId, price: 4900, quantity: 2 }] });
      return res.status === 201 ? res : undefined;
    });
    const orderId: string = placed.json.orderId;
    await wait('order-query to show Confirmed', async () => (await http('GET', `${orderQuery.url}/orders/${orderId}`)).json?.status === 'Confirmed');

    // The trace is the one of the OrderPlaced outbox write for this order.
    const written = (type: string) => (s: ReadableSpan) => s.name === `outbox ${type}` && s.attributes['messaging.kafka.message.key'] === orderId;
    const placedWrite = await wait('the OrderPlaced outbox span', async () => finished().find(written('OrderPlaced')));
    const traceId = placedWrite.spanContext().traceId;
    const inTrace = () => finished().filter((s) => s.spanContext().traceId === traceId);
    const consumed = (group: string, type: string) => (s: ReadableSpan) =>
      s.kind === SpanKind.CONSUMER && s.attributes['messaging.consumer.group.name'] === group && s.attributes['qtshop.event.type'] === type;
    const ofOrder = (s: ReadableSpan) => s.attributes['messaging.kafka.message.key'] === orderId;
    const last = await wait('order-query to finish consuming OrderConfirmed', async () =>
      finished().find((s) => consumed('qtshop-order-query', 'OrderConfirmed')(s) && ofOrder(s)),
    );

    // From the last consumer up to the root, each span the child of the next: nothing cut the trace.
    const byId = () => new Map(finished().map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => (s.parentSpanContext ? byId().get(s.parentSpanContext.spanId) : undefined);
    const ancestry: ReadableSpan[] = [];
    for (let s: ReadableSpan | undefined = last; s; s = parentOf(s)) ancestry.push(s);
    // A consumer's transaction span is in the chain when it handled the event alone, not when it handled it in a
    // batch with others (one transaction for events of several traces belongs to none of them: the event's
    // handle span then sits right under its process span). Which one happens depends on what else arrived.
    const withoutConsumerTransactions = (chain: string[]) => chain.filter((d, i) => !(d.includes(': transaction ') && chain[i + 1]?.includes(': handle ')));
    expect(withoutConsumerTransactions(ancestry.map(describeSpan))).toEqual(
      withoutConsumerTransactions([
        'order-query: process qtshop.order',
        'order-command: outbox OrderConfirmed',
        'order-command: transaction orders',
        'order-command: handle OrderStockReserved',
        'order-command: process qtshop.inventory',
        'inventory: outbox OrderStockReserved',
        'inventory: transaction inventory',
        'inventory: handle OrderPlaced',
        'inventory: process qtshop.order',
        'order-command: outbox OrderPlaced',
        'order-command: transaction orders',
        'order-command: POST /orders',
      ]),
    );
    expect(last.spanContext().traceId).toBe(traceId);
    const root = ancestry.at(-1)!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.kind).toBe(SpanKind.SERVER);
    expect(root.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/orders', 'http.response.status_code': 201 });

    // Everyone who consumed one of the journey's events did so in the trace: the basket (OrderPlaced), order-query
    // (OrderPlaced too) and the catalog (the stock inventory reserved), each under the write of what it consumed.
    await wait('every consumer of the journey to finish', async () =>
      [consumed(basket.groupId, 'OrderPlaced'), consumed('qtshop-order-query', 'OrderPlaced'), consumed('qtshop-catalog', 'ProductQuantityUpdated')].every(
        (c) => inTrace().some(c),
      ),
    );
    const parentName = (c: (s: ReadableSpan) => boolean) => describeSpan(parentOf(inTrace().find(c)!)!);
    expect(parentName(consumed(basket.groupId, 'OrderPlaced'))).toBe('order-command: outbox OrderPlaced');
    expect(parentName(consumed('qtshop-order-query', 'OrderPlaced'))).toBe('order-command: outbox OrderPlaced');
    expect(parentName(consumed('qtshop-catalog', 'ProductQuantityUpdated'))).toBe('inventory: outbox ProductQuantityUpdated');
    // A topic carries several types; a consumer skips those it has no handler for (catalog: the stock decision).
    const outcomes = inTrace()
      .filter((s) => s.kind === SpanKind.CONSUMER)
      .map((s) => `${serviceOf(s)} ${s.attributes['qtshop.event.type']}: ${s.attributes['qtshop.consumer.outcome']}`);
    expect(outcomes.filter((o) => !o.endsWith(': applied') && !o.endsWith(': skipped'))).toEqual([]);
    for (const s of ancestry.filter((s) => s.kind === SpanKind.CONSUMER)) expect(s.attributes['qtshop.consumer.outcome']).toBe('applied');

    // The log lines each service wrote while handling the journey carry its trace id.
    const tracedLines = (service: string) => (lines.get(service) ?? []).filter((l) => l.trace_id === traceId);
    for (const service of ['inventory', 'order-command', 'order-query', 'basket', 'catalog']) {
      expect({ service, applied: tracedLines(service).some((l) => l.msg === 'event applied' && typeof l.span_id === 'string') }).toEqual({
        service,
        applied: true,
      });
    }
  }, 120_000);
});
