// The createdAt header as PostgreSQL prints it for the polling relay must be what Debezium writes for a
// timestamptz: UTC, six fractional digits with trailing zeros kept, 'Z' (seen: …40.501740Z). The relays'
// records are compared with each other in test/catalog/relay-equality.int.test.ts.
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { createdAtHeaderSql } from '@qtshop/shared/outbox';

const db = createDb(loadInfra(), 'postgres', { max: 1 });
afterAll(() => db.destroy());

describe('createdAtHeaderSql', () => {
  it.each([
    ['2026-11-25 08:03:28.142115+00', '2026-11-25T08:03:28.142115Z'],
    ['2026-11-25 08:59:40.50174+00', '2026-11-25T08:59:40.501740Z'],
    ['2026-11-25 08:03:20+00', '2026-11-25T08:03:20.000000Z'],
    ['2026-11-25 09:03:20.5+01', '2026-11-25T08:03:20.500000Z'],
  ])('%s → %s', async (timestamptz, header) => {
    const { rows } = (await db.raw(`select ${createdAtHeaderSql('t')} as header from (select ?::timestamptz as t) x`, [timestamptz])) as {
      rows: Array<{ header: string }>;
    };
    expect(rows[0]!.header).toBe(header);
  });
});
