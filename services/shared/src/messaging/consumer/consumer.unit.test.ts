import { jest } from '@jest/globals';
import type { KafkaMessage } from 'kafkajs';
import { decodeEvent } from './decode';
import { lostMembership, withHeartbeats } from './membership';
import { isTransient } from '../../infra/transient';

const pg = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
const mongo = (code: number, labels: string[] = []) => Object.assign(new Error(`mongo ${code}`), { name: 'MongoServerError', code, errorLabels: labels });

describe('isTransient', () => {
  it.each(['25006', '57014', '55P03', '40001', '40P01', '08006', '57P01', '53300'])('waits out PostgreSQL %s', (code) => {
    expect(isTransient(pg(code))).toBe(true);
  });
  it.each([10107, 189, 91, 11600, 11602, 13435, 13436])('waits out MongoDB error code %i (primary stepping down, shutdown, failover)', (code) => {
    expect(isTransient(mongo(code))).toBe(true);
  });
  it('waits out a MongoDB error labelled RetryableWriteError whatever its code', () => {
    expect(isTransient(mongo(262, ['RetryableWriteError']))).toBe(true);
  });
  it.each(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'KnexTimeoutError'])(
    'waits out %s',
    (name) => {
      expect(isTransient(Object.assign(new Error('x'), { name }))).toBe(true);
    },
  );
  it('waits out an unreachable database', () => {
    expect(isTransient(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
  });
  it.each([
    ['a unique violation', pg('23505')],
    ['a check violation', pg('23514')],
    ['a MongoDB duplicate key', mongo(11000)],
    ['a plain bug', new Error('undefined is not a function')],
    ['not an error at all', undefined],
  ])('does not wait out %s', (_what, err) => {
    expect(isTransient(err)).toBe(false);
  });
});

describe('withHeartbeats', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('heartbeats every interval for as long as the work takes (a wait longer than the session timeout keeps the membership)', async () => {
    const heartbeat = jest.fn(async () => undefined);
    const work = new Promise<string>((r) => setTimeout(() => r('done'), 65_000));
    const running = withHeartbeats(heartbeat, 3000, () => work);
    await jest.advanceTimersByTimeAsync(65_000);
    expect(await running).toEqual({ value: 'done' });
    expect(heartbeat).toHaveBeenCalledTimes(21);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(heartbeat).toHaveBeenCalledTimes(21); // stopped with the work
  });

  it('reports a rebalance noticed by a heartbeat, and ignores other heartbeat failures', async () => {
    const rebalance = Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    const failures = [new Error('broker unreachable'), rebalance];
    const heartbeat = jest.fn(async () => {
      const f = failures.shift();
      if (f) throw f;
    });
    const running = withHeartbeats(heartbeat, 1000, () => new Promise<number>((r) => setTimeout(() => r(1), 3500)));
    await jest.advanceTimersByTimeAsync(3500);
    expect(await running).toEqual({ value: 1, lost: rebalance });
    expect(lostMembership(rebalance)).toBe(true);
    expect(lostMembership(new Error('broker unreachable'))).toBe(false);
  });

  it('stops heartbeating when the work fails', async () => {
    const heartbeat = jest.fn(async () => undefined);
    const running = withHeartbeats(heartbeat, 1000, () => new Promise((_r, reject) => setTimeout(() => reject(new Error('db down')), 1500)));
    const settled = expect(running).rejects.toThrow('db down');
    await jest.advanceTimersByTimeAsync(1500);
    await settled;
    await jest.advanceTimersByTimeAsync(5000);
    expect(heartbeat).toHaveBeenCalledTimes(1);
  });
});

describe('decodeEvent', () => {
  const message = (value: object): KafkaMessage =>
    ({
      key: Buffer.from('p-1'),
      value: Buffer.from(JSON.stringify(value)),
      headers: { id: Buffer.from('0b7c1d5e-8a2f-4c3b-9d1e-2f3a4b5c6d7e'), eventType: Buffer.from('ProductQuantityUpdated') },
      offset: '0',
      timestamp: '0',
      attributes: 0,
    }) as KafkaMessage;

  it('reads a payload with a field its schema does not know, and drops the field (an additive change breaks no consumer)', () => {
    const event = decodeEvent('qtshop.inventory', 0, message({ productId: 'p-1', quantity: 3, version: 2, warehouse: 'north' }));
    expect(event.payload).toEqual({ productId: 'p-1', quantity: 3, version: 2 });
  });

  it('dead-letters a payload that lacks a required field', () => {
    expect(() => decodeEvent('qtshop.inventory', 0, message({ productId: 'p-1', version: 2 }))).toThrow(/version|quantity/);
  });
});
