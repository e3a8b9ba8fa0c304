import { Loop } from '@qtshop/shared/platform';
import { deleteInBatches } from '@qtshop/shared/messaging';
import { planBatch, protocolErrorType, recordBytes, topicMessagesOf, type UnsentRow } from '../../services/relay/src/batch';
import { sightingsOf } from '../../services/relay/src/confirmer';
import { shouldDrain } from '../../services/relay/src/polling';
import { problemsOf } from '../../services/relay/src/supervisor';

const row = (
  id: string,
  aggregatetype: string,
  aggregateid: string,
  traceparent: string | null = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
): UnsentRow => ({
  id,
  position: id,
  aggregatetype,
  aggregateid,
  type: 'ThingHappened',
  payload: { id },
  traceparent,
});

const planned = (rows: UnsentRow[]) => planBatch(rows, 1_000_000).send;

describe('topicMessagesOf', () => {
  it('groups the records by topic and keeps row order within each topic', () => {
    const batch = topicMessagesOf(planned([row('1', 'product', 'a'), row('2', 'order', 'o'), row('3', 'product', 'b'), row('4', 'product', 'a')]));
    expect(batch.map((t) => t.topic)).toEqual(['qtshop.product', 'qtshop.order']);
    expect(batch[0]!.messages.map((m) => m.headers?.id)).toEqual(['1', '3', '4']);
    expect(batch[0]!.messages.map((m) => m.key)).toEqual(['a', 'b', 'a']);
    expect(batch[1]!.messages[0]).toEqual({
      key: 'o',
      value: JSON.stringify({ id: '2' }),
      headers: { id: '2', eventType: 'ThingHappened', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
  });

  it('is empty for no rows', () => {
    expect(topicMessagesOf([])).toEqual([]);
  });
});

describe('shouldDrain', () => {
  it('polls again at once after a full batch, or when rows were left out or quarantined', () => {
    expect(shouldDrain(500, 500)).toBe(true);
    expect(shouldDrain(499, 500)).toBe(false);
    expect(shouldDrain(0, 500)).toBe(false);
    expect(shouldDrain(10, 500, 3)).toBe(true);
  });
});

const big = (id: string, bytes: number, aggregatetype = 'product') => ({ ...row(id, aggregatetype, `k${id}`), payload: { blob: 'x'.repeat(bytes) } });

describe('planBatch', () => {
  it('stops a send before it exceeds the byte bound and leaves the rest for the next poll', () => {
    const rows = [big('1', 300), big('2', 300), big('3', 300), big('4', 10)];
    const plan = planBatch(rows, 1000);
    expect(plan.send.map((r) => r.row.id)).toEqual(['1', '2']);
    expect(plan.deferred).toBe(2);
    expect(plan.quarantine).toEqual([]);
    expect(plan.send.reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(1000);
  });

  it('quarantines a record larger than the bound on its own, and the rows behind it still go', () => {
    const plan = planBatch([big('1', 5000), big('2', 10)], 1000);
    expect(plan.quarantine.map((q) => q.row.id)).toEqual(['1']);
    expect(plan.quarantine[0]!.error).toMatch(/too large/);
    expect(plan.send.map((r) => r.row.id)).toEqual(['2']);
  });

  it('quarantines a row whose aggregate type makes an illegal topic name', () => {
    const plan = planBatch([row('1', 'bad topic!', 'a'), row('2', 'product', 'b')], 1000);
    expect(plan.quarantine).toEqual([{ row: expect.objectContaining({ id: '1' }), error: expect.stringMatching(/unroutable.*qtshop\.bad topic!/) }]);
    expect(plan.send.map((r) => r.row.id)).toEqual(['2']);
  });

  it("counts key, value and headers in a record's bytes", () => {
    const [r] = planned([big('1', 1000)]);
    expect(r!.bytes).toBe(recordBytes(r!.message));
    expect(r!.bytes).toBeGreaterThan(1000 + 'k1'.length + r!.message.headers!.traceparent!.toString().length);
  });
});

describe('protocolErrorType', () => {
  const protocol = (type: string) => Object.assign(new Error(type), { type, retriable: false });
  it('names the Kafka error behind a refusal, also when kafkajs wraps it (the relay waits it out, saying why)', () => {
    expect(protocolErrorType(protocol('MESSAGE_TOO_LARGE'))).toBe('MESSAGE_TOO_LARGE');
    expect(protocolErrorType(Object.assign(new Error('wrapped'), { retriable: false, cause: protocol('TOPIC_AUTHORIZATION_FAILED') }))).toBe(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });
  it('names nothing for an outage without a Kafka answer (connection errors)', () => {
    expect(protocolErrorType(Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError' }))).toBeUndefined();
  });
});

describe('sightingsOf', () => {
  it('reads the id header and the key of each record and ignores records that are not outbox records', () => {
    const id = '8c1f6f5e-3b1e-4c8e-9a53-2f7d1d6b1a11';
    expect(
      sightingsOf([
        { key: Buffer.from('p-1'), headers: { id: Buffer.from(id.toUpperCase()) } },
        { key: null, headers: { id: Buffer.from(id) } },
        { key: Buffer.from('p-2'), headers: {} },
        { headers: { id: Buffer.from('nope') } },
      ]),
    ).toEqual([
      { id, key: 'p-1' },
      { id, key: null },
    ]);
  });
});

describe('problemsOf', () => {
  const healthy = { connector: { name: 'c', state: 'RUNNING' as const }, unconfirmed: 3, oldestUnconfirmedS: 1, misrouted: 0, quarantined: 2 };
  it('has none when the connector runs and nothing waits too long (quarantined rows do not count)', () => {
    expect(problemsOf(healthy, 60_000)).toEqual([]);
  });
  it('names a failed or missing connector, a lost slot and an old undelivered row', () => {
    expect(problemsOf({ ...healthy, connector: { name: 'c', state: 'FAILED', detail: 'task 0 failed: x' } }, 60_000)[0]).toMatch(
      /connector c FAILED \(task 0 failed: x\)/,
    );
    expect(problemsOf({ ...healthy, connector: { name: 'c', state: 'MISSING' } }, 60_000)[0]).toMatch(/not registered/);
    expect(
      problemsOf({ ...healthy, slot: { name: 's', exists: true, active: false, walStatus: 'lost', retainedBytes: 0, failover: null } }, 60_000)[0],
    ).toMatch(/slot s was invalidated/);
    const gone = { name: 's', exists: false, active: false, walStatus: null, retainedBytes: 0, failover: null };
    expect(problemsOf({ ...healthy, connector: { name: 'c', state: 'FAILED' }, slot: gone }, 60_000)).toContain(
      'replication slot s is missing; the connector is being re-created',
    );
    expect(problemsOf({ ...healthy, slot: gone }, 60_000)).toEqual([]); // RUNNING: Debezium is creating it
    expect(problemsOf({ ...healthy, oldestUnconfirmedS: 61 }, 60_000)[0]).toMatch(/oldest undelivered outbox row is 61 s old/);
  });
  it('names each drifted key with its running and committed value, and says whether the relay puts the file back', () => {
    const drifted = {
      ...healthy,
      connector: {
        ...healthy.connector,
        drift: [
          { key: 'database.password', hidden: true as const },
          { key: 'transforms.outbox.route.topic.replacement', running: 'qtshop.inventory', committed: 'qtshop.${routedByValue}' },
        ],
      },
    };
    const [problem] = problemsOf(drifted, 60_000);
    expect(problem).toBe(
      "connector c's configuration differs from connect-config/c.json: database.password differs (value hidden), " +
        'transforms.outbox.route.topic.replacement is "qtshop.inventory" (committed "qtshop.${routedByValue}"); the active relay puts the file back',
    );
    expect(problemsOf(drifted, 60_000, false)[0]).toMatch(/not restored \(CONNECT_RESTORE_DRIFT=false\): npm run connect -- register c$/);
    expect(problemsOf({ ...healthy, connector: { ...healthy.connector, drift: [] } }, 60_000)).toEqual([]);
  });
  it('names undelivered rows whose record was seen misrouted, and none once they are delivered', () => {
    expect(problemsOf({ ...healthy, misrouted: 2 }, 60_000)).toEqual([
      '2 undelivered outbox row(s) had their record seen on a wrong topic or with a wrong key; the repair publishes them to their own topic',
    ]);
  });
});

describe('deleteInBatches', () => {
  it('deletes until a batch comes back short and returns the total', async () => {
    let left = 25;
    const calls: number[] = [];
    const total = await deleteInBatches(async (limit) => {
      const n = Math.min(limit, left);
      left -= n;
      calls.push(n);
      return n;
    }, 10);
    expect(total).toBe(25);
    expect(calls).toEqual([10, 10, 5]);
  });

  it('makes one more call when the last batch is exactly full', async () => {
    const results = [10, 0];
    const total = await deleteInBatches(async () => results.shift()!, 10);
    expect(total).toBe(10);
    expect(results).toEqual([]);
  });
});

describe('Loop', () => {
  it('runs again at once while the step asks to, then waits the interval; stop() wakes the wait', async () => {
    const stamps: number[] = [];
    const loop = new Loop(
      async () => {
        stamps.push(Date.now());
        return stamps.length < 4;
      },
      60_000,
      () => undefined,
    );
    const started = Date.now();
    loop.start();
    await new Promise<void>((resolve) => {
      const check = () => (stamps.length >= 4 ? resolve() : setImmediate(check));
      check();
    });
    await loop.stop();
    expect(stamps).toHaveLength(4);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a failing step and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const loop = new Loop(
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return calls < 3;
      },
      1,
      (err) => {
        errors.push(err);
      },
    );
    loop.start();
    await new Promise<void>((resolve) => {
      const check = () => (calls >= 3 ? resolve() : setTimeout(check, 1));
      check();
    });
    await loop.stop();
    expect(errors).toEqual([new Error('boom')]);
  });
});
