import { outboxRecord } from '@qtshop/shared/outbox';

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
    expect(outboxRecord({ ...row, created_at_header: '2026-11-25T08:03:28.142100Z' }).message.headers).toEqual({
      id: row.id,
      eventType: 'ProductCreated',
      createdAt: '2026-11-25T08:03:28.142100Z',
    });
    expect(outboxRecord(row).message.headers).toEqual({ id: row.id, eventType: 'ProductCreated' });
  });
});
