// kafkajs retry options (kafkaRetry, services/shared/src/infra/kafka.ts) and the consumers' own
// (CONSUMER_KAFKA_RETRY_MAX_MS, CONSUMER_KAFKA_RETRY_BUDGET_MS): waits from 300 ms doubling up to the
// ceiling, as many retries as the budget's worth of waits, and the consumer runner hands them to kafkajs.
import { jest } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { kafkaRetry } from '@qtshop/shared/infra';
import { consumerSettings, consumerTuning, createConsumerRunner } from '@qtshop/shared/messaging';
import { loadConfig } from '@qtshop/shared/platform';
import type { Inbox } from '@qtshop/shared/messaging';

/** The nominal waits kafkajs makes for these options (it varies each by ±20%). */
const waits = (r: ReturnType<typeof kafkaRetry>) => Array.from({ length: r.retries }, (_, n) => Math.min(r.maxRetryTime, r.initialRetryTime * 2 ** n));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('kafkaRetry', () => {
  it('with the consumer defaults: 300 ms doubling to 2 s, about two minutes of waits (62 retries)', () => {
    const r = kafkaRetry({ maxMs: 2000, budgetMs: 120_000 });
    expect(r).toEqual({ initialRetryTime: 300, maxRetryTime: 2000, retries: 62 });
    expect(waits(r).slice(0, 5)).toEqual([300, 600, 1200, 2000, 2000]);
    expect(sum(waits(r))).toBeGreaterThanOrEqual(120_000);
    expect(sum(waits(r).slice(0, -1))).toBeLessThan(120_000); // no retry more than the budget takes
  });

  it.each([
    [30_000, 128_000],
    [5000, 60_000],
    [2000, 10_000],
    [1500, 1],
  ])('spends the budget and no more with a ceiling of %i ms and a budget of %i ms', (maxMs, budgetMs) => {
    const r = kafkaRetry({ maxMs, budgetMs });
    expect(Math.max(...waits(r))).toBeLessThanOrEqual(maxMs);
    expect(sum(waits(r))).toBeGreaterThanOrEqual(budgetMs);
    expect(sum(waits(r).slice(0, -1))).toBeLessThan(budgetMs);
  });

  it('starts at the ceiling when that is under 300 ms, and always retries at least once', () => {
    expect(kafkaRetry({ maxMs: 100, budgetMs: 1000 })).toEqual({ initialRetryTime: 100, maxRetryTime: 100, retries: 10 });
    expect(kafkaRetry({ maxMs: 2000, budgetMs: 1 }).retries).toBe(1);
  });
});

describe("a consumer's kafkajs retries", () => {
  /** The options createConsumerRunner gives kafkajs's consumer, for these environment variables. */
  const consumerOptions = (env: Record<string, string>) => {
    const consumer = jest.fn((_o: Record<string, unknown>) => ({ on: () => undefined, events: { FETCH: 'fetch', GROUP_JOIN: 'join', CRASH: 'crash' } }));
    const kafka = { consumer, producer: () => ({}) } as unknown as Kafka;
    const log = { child: () => log, info() {}, warn() {}, error() {}, debug() {}, fatal() {} } as never;
    createConsumerRunner({
      kafka,
      groupId: 'qtshop-test',
      topics: [],
      handlers: {},
      inbox: {} as Inbox<unknown>,
      log,
      ...consumerTuning(loadConfig(consumerSettings, env)),
    });
    return consumer.mock.calls[0]![0];
  };

  it('wait at most CONSUMER_KAFKA_RETRY_MAX_MS (2 s by default, kafkajs would wait up to 30 s)', () => {
    expect(consumerOptions({}).retry).toEqual({ initialRetryTime: 300, maxRetryTime: 2000, retries: 62 });
    expect(consumerOptions({ CONSUMER_KAFKA_RETRY_MAX_MS: '30000', CONSUMER_KAFKA_RETRY_BUDGET_MS: '60000' }).retry).toEqual(
      kafkaRetry({ maxMs: 30_000, budgetMs: 60_000 }),
    );
  });
});
