// The check the relay tests run on every record they read: it passes a record as the relays produce it
// and names what is wrong with one that is not.
import { randomUUID } from 'node:crypto';
import { traceparentFrom } from '@qtshop/shared/observability';
import { outboxRecord } from '@qtshop/shared/outbox';
import { recordContractProblems, type RecordLike } from '../support/contracts';

const productId = randomUUID();
const payload = { productId, name: 'Lamp', description: 'Brass', type: 'home', brand: 'Lumo', pictureUrl: '', price: 4900, version: 1 };

function record(overrides: Partial<RecordLike> = {}, value: object = payload): RecordLike {
  const { topic, message } = outboxRecord({
    id: randomUUID(),
    aggregatetype: 'product',
    aggregateid: productId,
    type: 'ProductCreated',
    payload: value,
    traceparent: traceparentFrom(),
    created_at_header: '2026-11-25T08:59:40.501740Z',
  });
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { topic, key: String(message.key), value: String(message.value), headers, ...overrides };
}

describe('recordContractProblems', () => {
  it('passes a record as the relays produce it', () => {
    expect(recordContractProblems(record())).toEqual([]);
  });

  it('names a payload field that is missing or of the wrong type', () => {
    const { price: _price, ...noPrice } = payload;
    expect(recordContractProblems(record({}, noPrice))).toEqual([expect.stringMatching(/^payload: .*price/)]);
    expect(recordContractProblems(record({}, { ...payload, version: '1' }))).toEqual([expect.stringMatching(/^payload: \/version must be integer/)]);
  });

  it('names a missing or malformed header, a wrong topic and a key that is not the aggregate id', () => {
    const good = record();
    const { createdAt: _c, ...noCreatedAt } = good.headers;
    expect(recordContractProblems({ ...good, headers: noCreatedAt })).toEqual([expect.stringMatching(/^headers: .*createdAt/)]);
    expect(recordContractProblems({ ...good, headers: { ...good.headers, id: 'not-a-uuid' } })).toEqual([expect.stringMatching(/^headers: \/id must match .*"uuid"/)]);
    expect(recordContractProblems({ ...good, topic: 'qtshop.order' })).toEqual(['ProductCreated belongs on qtshop.product, not qtshop.order']);
    expect(recordContractProblems({ ...good, key: 'other' })).toEqual(["key other is not the payload's productId"]);
  });

  it('names an event type the contracts do not have', () => {
    expect(recordContractProblems(record({ headers: { ...record().headers, eventType: 'ProductTeleported' } }))).toEqual([
      'eventType "ProductTeleported" is not in contracts/events/asyncapi.json',
    ]);
  });
});
