// `npm run outbox -- retry --all [db...]` against scratch outbox databases no relay serves: rows quarantined
// by hand are released, in the databases named (or every one of OUTBOX_DATABASES), and no other row changes.
import { randomUUID } from 'node:crypto';
import type { Knex } from '@qtshop/shared/infra';
import { insertRows, rows, scratchDatabase, type Scratch } from '../relay/scratch';
import { cli } from './support';

let a: Scratch;
let b: Scratch;
beforeAll(async () => {
  a = await scratchDatabase();
  b = await scratchDatabase();
});
afterAll(async () => {
  await a?.drop();
  await b?.drop();
});

/** `n` rows of a topic of the test's own in `db`, in their order. */
async function seed(db: Knex, n: number): Promise<string[]> {
  const list = rows(`test.retry-all-${randomUUID()}`, n, [randomUUID()]);
  await insertRows(db, list);
  return list.map((r) => r.id);
}

const quarantine = (db: Knex, ids: string[]) =>
  db('outbox').whereIn('id', ids).update({ quarantined_at: db.fn.now(), quarantine_error: 'unroutable: topic "bad topic!" is not a legal name' });

const state = (db: Knex) => db('outbox').orderBy('position').select('id', 'sent_at', 'quarantined_at', 'quarantine_error', 'aggregatetype', 'payload');

/** The per-database lines the command logged: database -> rows released. */
function released(stdout: string): Record<string, number> {
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { database?: string; released?: number });
  return Object.fromEntries(lines.filter((l) => l.released !== undefined).map((l) => [l.database, l.released]));
}

describe('npm run outbox -- retry --all', () => {
  it('releases every quarantined row of the databases named, in one go, and leaves every other row as it was', async () => {
    const [q1, q2, sent, waiting] = await seed(a.db, 4);
    await a.db('outbox').where({ id: sent }).update({ sent_at: a.db.fn.now() });
    await quarantine(a.db, [q1!, q2!]);
    const [other] = await seed(b.db, 1);
    await quarantine(b.db, [other!]);
    const before = await state(a.db);
    const otherBefore = await state(b.db);

    const run = await cli('scripts/outbox.ts', ['retry', '--all', a.name]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(released(run.stdout)).toEqual({ [a.name]: 2 });

    const after = await state(a.db);
    const unquarantined = (r: (typeof before)[number]) => ({ ...r, quarantined_at: null, quarantine_error: null });
    expect(after).toEqual(before.map((r) => ([q1, q2].includes(r.id) ? unquarantined(r) : r)));
    expect(after.find((r) => r.id === sent)!.sent_at).not.toBeNull();
    expect(after.find((r) => r.id === waiting)).toEqual(before.find((r) => r.id === waiting));
    // A database not named keeps its quarantine.
    expect(await state(b.db)).toEqual(otherBefore);
  });

  it('takes every outbox database of OUTBOX_DATABASES when none is named, and finding none in quarantine is no failure', async () => {
    const [q] = await seed(b.db, 1);
    await quarantine(b.db, [q!]);

    const run = await cli('scripts/outbox.ts', ['retry', '--all'], { OUTBOX_DATABASES: `${a.name},${b.name}` });
    expect(run.code).toBe(0);
    expect(released(run.stdout)).toEqual({ [a.name]: 0, [b.name]: 2 }); // the one the first test left, and this one
    expect(await b.db('outbox').whereNotNull('quarantined_at').count<Array<{ n: string }>>({ n: '*' })).toEqual([{ n: '0' }]);
  });

  it('still wants an event id or --all after retry', async () => {
    const run = await cli('scripts/outbox.ts', ['retry', 'everything', a.name]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/retry needs the event id \(a UUID\) of a quarantined row, or --all/);
    expect(run.stderr).toContain('npm run outbox -- retry --all [db...]');
  });
});
