// The Debezium-mode janitor against the real PostgreSQL: old outbox rows go, recent ones stay.
import { createLogger, waitUntil, type Knex } from '@qtshop/shared';
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

/** `old` rows created two days ago and `recent` rows created now; returns the ids of the recent ones. */
async function seed(db: Knex, old: number, recent: number): Promise<string[]> {
  const aggregatetype = `janitortest${suffix()}`;
  const stale = rows(aggregatetype, old, ['j-1']);
  const fresh = rows(aggregatetype, recent, ['j-2']);
  await insertRows(db, [...stale, ...fresh]);
  await db('outbox').whereIn('id', stale.map((r) => r.id)).update({ created_at: db.raw(`now() - interval '2 days'`) });
  return fresh.map((r) => r.id);
}
const remaining = async (db: Knex): Promise<string[]> => (await db('outbox').select('id').orderBy('position')).map((r: { id: string }) => r.id);

describe('outbox janitor', () => {
  it('deletes the rows older than the retention in bounded batches and keeps the newer ones', async () => {
    const fresh = await seed(scratch.db, 7, 3);
    const janitor = new Janitor({ database: scratch.name, db: scratch.db, retentionMs: 86_400_000, intervalMs: 60_000, batchSize: 3, log, metrics: new RelayMetrics(new Registry()) });
    expect(await janitor.runOnce()).toBe(7);
    expect(await remaining(scratch.db)).toEqual(fresh);
    expect(await janitor.runOnce()).toBe(0);
  });

  it('runs on its interval in debezium mode, where the relay publishes nothing', async () => {
    const fresh = await seed(scratch.db, 25, 5);
    const relay = createRelay(relayConfig(scratch.name, { RELAY_MODE: 'debezium', OUTBOX_RETENTION_MS: 86_400_000, OUTBOX_JANITOR_INTERVAL_MS: 100 }), { log });
    await relay.start();
    try {
      expect(relay.pollers).toHaveLength(0);
      expect(relay.janitors).toHaveLength(1);
      await waitUntil(async () => (await remaining(scratch.db)).length === 5, { timeoutMs: 5000, what: 'old outbox rows deleted' });
      expect(await remaining(scratch.db)).toEqual(fresh);
      // Recent rows are never marked sent in debezium mode: that is Debezium's job, read from the WAL.
      expect(await scratch.db('outbox').whereNotNull('sent_at').count({ n: '*' })).toEqual([{ n: '0' }]);
      const metrics = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`relay_janitor_deleted_total\\{[^}]*database="${scratch.name}"[^}]*\\} 25`));
    } finally {
      await relay.stop();
    }
  });
});
