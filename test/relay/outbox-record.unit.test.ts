import { outboxRecord, outboxTimestamp } from '@qtshop/shared';

describe('outboxTimestamp (the createdAt header, as Debezium prints a timestamptz)', () => {
  it.each([
    ['2026-11-25T08:03:28.142115', '2026-11-25T08:03:28.142115Z'],
    // Debezium keeps the column's six fractional digits, trailing zeros included (seen: …40.501740Z).
    ['2026-11-25T08:59:40.501740', '2026-11-25T08:59:40.501740Z'],
    ['2026-11-25T08:03:20.000000', '2026-11-25T08:03:20.000000Z'],
  ])('%s → %s', (utc, header) => {
    expect(outboxTimestamp(utc)).toBe(header);
    expect(Date.parse(header)).toBe(Date.parse(`${utc}Z`));
  });
});

describe('outboxRecord', () => {
  const row = {
    id: 'a6c2f1f8-3f3e-4f6e-9d7a-1d2c3b4a5f60',
    aggregatetype: 'product',
    aggregateid: 'p-1',
    type: 'ProductCreated',
    payload: { a: 1 },
    traceparent: null,
  };

  it('carries createdAt when the row has its time, and leaves it out otherwise', () => {
    expect(outboxRecord({ ...row, created_at_utc: '2026-11-25T08:03:28.142100' }).message.headers).toEqual({
      id: row.id,
      eventType: 'ProductCreated',
      createdAt: '2026-11-25T08:03:28.142100Z',
    });
    expect(outboxRecord(row).message.headers).toEqual({ id: row.id, eventType: 'ProductCreated' });
  });
});
