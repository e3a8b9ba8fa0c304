// The janitor against the real PostgreSQL: delivered rows past the retention go; recent, undelivered and
// quarantined rows stay.
import { createLogger, waitUntil } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { Janitor } from '../../services/relay/src/janitor';
import { RelayMetrics } from '../../services/relay/src/metrics';
import { createRelay } from '../../services/relay/src/relay';
import { Registry } from 'prom-client';
import { insertRows, relayConfig, rows, scratchDatabase, suffix, type Scratch } from './scratch';

const log = createLogger('relay-test', 'error');
let scratch: Scratch;

beforeEach(async () => {
  scratch = await scratchDatabase();
});
afterEach(() => scratch.drop());

/**
 * `old` delivered rows created two days ago, `recent` delivered rows created now, and two rows that were
 * never delivered: one quarantined two days ago, one created two days ago (or now, with `undeliveredIsRecent`:
 * a polling relay publishes it, and it must stay as a recent delivered row); returns the ids of the rows that
 * must stay.
 */
async function seed(db: Knex, old: number, recent: number, undeliveredIsRecent = false): Promise<string[]> {
  const aggregatetype = `janitortest${suffix()}`;
  const stale = rows(aggregatetype, old, ['j-1']);
  const fresh = rows(aggregatetype, recent, ['j-2']);
  const [undelivered, quarantined] = rows(aggregatetype, 2, ['j-3']);
  await insertRows(db, [...stale, undelivered!, quarantined!, ...fresh]);
  const twoDaysAgo = db.raw(`now() - interval '2 days'`);
  await db('outbox')
    .whereIn(
      'id',
      stale.map((r) => r.id),
    )
    .update({ created_at: twoDaysAgo, sent_at: twoDaysAgo });
  await db('outbox')
    .whereIn(
      'id',
      fresh.map((r) => r.id),
    )
    .update({ sent_at: db.fn.now() });
  if (!undeliveredIsRecent) await db('outbox').where({ id: undelivered!.id }).update({ created_at: twoDaysAgo });
  await db('outbox').where({ id: quarantined!.id }).update({ created_at: twoDaysAgo, quarantined_at: twoDaysAgo, quarantine_error: 'test' });
  return [undelivered!.id, quarantined!.id, ...fresh.map((r) => r.id)];
}
const remaining = async (db: Knex): Promise<string[]> => (await db('outbox').select('id').orderBy('position')).map((r: { id: string }) => r.id);

describe('outbox janitor', () => {
  it('deletes the delivered rows older than the retention in bounded batches and keeps newer, undelivered and quarantined ones', async () => {
    const fresh = await seed(scratch.db, 7, 3);
    const janitor = new Janitor({
      database: scratch.name,
      db: scratch.db,
      retentionMs: 86_400_000,
      intervalMs: 60_000,
      batchSize: 3,
      log,
      metrics: new RelayMetrics(new Registry()),
    });
    expect(await janitor.runOnce()).toBe(7);
    expect(await remaining(scratch.db)).toEqual(fresh);
    expect(await janitor.runOnce()).toBe(0);
  });

  it.each(['debezium', 'polling'] as const)('runs on its interval in %s mode', async (mode) => {
    // debezium: repair only after three days here, so the undelivered row stays undelivered; polling: the
    // relay publishes it, and as it was created now it stays.
    const keep = await seed(scratch.db, 25, 5, mode === 'polling');
    const relay = createRelay(
      relayConfig(scratch.name, {
        RELAY_MODE: mode,
        OUTBOX_REPAIR_AFTER_MS: 3 * 86_400_000,
        OUTBOX_RETENTION_MS: 86_400_000,
        OUTBOX_JANITOR_INTERVAL_MS: 100,
      }),
      {
        log,
      },
    );
    await relay.start();
    try {
      expect(relay.janitors).toHaveLength(1);
      const unsent = async () =>
        Number((await scratch.db('outbox').whereNull('sent_at').whereNull('quarantined_at').count<{ count: string }[]>({ count: '*' }))[0]!.count);
      const expectedUnsent = mode === 'polling' ? 0 : 1;
      await waitUntil(async () => (await remaining(scratch.db)).length === keep.length && (await unsent()) === expectedUnsent, {
        timeoutMs: 5000,
        what: 'old delivered outbox rows deleted',
      });
      expect(await remaining(scratch.db)).toEqual(keep);
      const metrics = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`relay_janitor_deleted_total\\{[^}]*database="${scratch.name}"[^}]*\\} 25`));
    } finally {
      await relay.stop();
    }
  });
});
