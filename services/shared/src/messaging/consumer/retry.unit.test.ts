import { afterFailure, backoffDelay, parkedExpired, type RetryPolicy } from './retry';
import { ConsumerLiveness } from './liveness';
import { isEventFault } from '../../infra/transient';

const policy: RetryPolicy = { maxAttempts: 5, budgetMs: 300_000, backoff: { initialMs: 100, maxMs: 5000 }, parkedMaxMs: 10_000 };

describe('afterFailure', () => {
  it('retries a failing handler in place, with a doubling wait, until its quick attempts are spent', () => {
    expect(afterFailure(policy, { failures: 1, waits: 0, transient: false, elapsedMs: 0 })).toEqual({ action: 'retry', delayMs: 100 });
    expect(afterFailure(policy, { failures: 4, waits: 3, transient: false, elapsedMs: 700 })).toEqual({ action: 'retry', delayMs: 800 });
  });

  it('parks the partition after the quick attempts while the budget lasts (a table missing for seconds does not cost the event)', () => {
    expect(afterFailure(policy, { failures: 5, waits: 4, transient: false, elapsedMs: 1500 })).toEqual({ action: 'park' });
  });

  it('dead-letters once the budget from the first failure is spent, and at once after the quick attempts when the budget is 0', () => {
    expect(afterFailure(policy, { failures: 5, waits: 4, transient: false, elapsedMs: 300_000 })).toEqual({ action: 'dead-letter' });
    expect(afterFailure({ ...policy, budgetMs: 0 }, { failures: 5, waits: 4, transient: false, elapsedMs: 1500 })).toEqual({ action: 'dead-letter' });
    expect(parkedExpired(policy, 299_999)).toBe(false);
    expect(parkedExpired(policy, 300_000)).toBe(true);
  });

  it("dead-letters after the quick attempts, without parking, a failure of the event's own data (no wait can fix it)", () => {
    expect(afterFailure(policy, { failures: 5, waits: 4, transient: false, elapsedMs: 1500, eventFault: true })).toEqual({ action: 'dead-letter' });
    expect(isEventFault(Object.assign(new Error('invalid input syntax for type uuid: "p-1"'), { code: '22P02' }))).toBe(true);
    expect(isEventFault(Object.assign(new Error('violates check constraint'), { code: '23514' }))).toBe(true);
    expect(isEventFault(Object.assign(new Error('relation "stock_decisions" does not exist'), { code: '42P01' }))).toBe(false);
    expect(isEventFault(new Error('a bug'))).toBe(false);
  });

  it('waits out a transient failure in place for as long as it lasts, the wait capped', () => {
    expect(afterFailure(policy, { failures: 0, waits: 50, transient: true, elapsedMs: 3_600_000 })).toEqual({ action: 'retry', delayMs: 5000 });
  });

  it('caps the backoff and never overflows', () => {
    expect(backoffDelay(100, 5000, 0)).toBe(100);
    expect(backoffDelay(100, 5000, 10)).toBe(5000);
    expect(backoffDelay(100, 5000, 10_000)).toBe(5000);
  });
});

describe('ConsumerLiveness', () => {
  it('is not consuming until it joined its group, then consuming', () => {
    const l = new ConsumerLiveness(0);
    expect(l.problem(1000)).toMatch(/not consuming \(starting/);
    l.joined(3, 1000);
    expect(l.problem(2000)).toBeUndefined();
  });

  it('stalls when no fetch completed for the stall time while it has partitions', () => {
    const l = new ConsumerLiveness(0);
    l.joined(2, 0);
    l.fetched(10_000);
    expect(l.stalled(69_000, 60_000)).toBe(false);
    expect(l.stalled(70_001, 60_000)).toBe(true);
  });

  it('does not stall inside a batch (it may be waiting out a database outage) nor without partitions', () => {
    const busy = new ConsumerLiveness(0);
    busy.joined(1, 0);
    busy.enterBatch();
    expect(busy.stalled(600_000, 60_000)).toBe(false);
    busy.leaveBatch(600_000);
    expect(busy.stalled(600_001, 60_000)).toBe(false);
    const idle = new ConsumerLiveness(0);
    idle.joined(0, 0);
    expect(idle.stalled(600_000, 60_000)).toBe(false);
  });

  it('reports a crash, and a crash kafkajs restarts from ends at its next fetch', () => {
    const l = new ConsumerLiveness(0);
    l.joined(1, 0);
    l.set('crashed', 'kafkajs crashed (x) and restarts it', 1000);
    expect(l.problem(4000)).toBe('not consuming (crashed for 3 s): kafkajs crashed (x) and restarts it');
    expect(l.stalled(62_000, 60_000)).toBe(true);
    l.fetched(5000);
    expect(l.problem(5000)).toBeUndefined();
  });
});
