import { deleteInBatches } from '../../services/relay/src/janitor';
import { Loop } from '../../services/relay/src/loop';
import { shouldDrain, topicMessagesOf } from '../../services/relay/src/polling';

const row = (id: string, aggregatetype: string, aggregateid: string, traceparent: string | null = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') => ({
  id,
  position: id,
  aggregatetype,
  aggregateid,
  type: 'ThingHappened',
  payload: { id },
  traceparent,
});

describe('topicMessagesOf', () => {
  it('groups the records by topic and keeps row order within each topic', () => {
    const batch = topicMessagesOf([row('1', 'product', 'a'), row('2', 'order', 'o'), row('3', 'product', 'b'), row('4', 'product', 'a')]);
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
  it('polls again at once only after a full batch', () => {
    expect(shouldDrain(500, 500)).toBe(true);
    expect(shouldDrain(499, 500)).toBe(false);
    expect(shouldDrain(0, 500)).toBe(false);
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
    const loop = new Loop(async () => {
      stamps.push(Date.now());
      return stamps.length < 4;
    }, 60_000, () => undefined);
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
    const loop = new Loop(async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return calls < 3;
    }, 1, (err) => {
      errors.push(err);
    });
    loop.start();
    await new Promise<void>((resolve) => {
      const check = () => (calls >= 3 ? resolve() : setTimeout(check, 1));
      check();
    });
    await loop.stop();
    expect(errors).toEqual([new Error('boom')]);
  });
});
