// Kafka clients (kafkajs). kafkajs 2.2.4 is unmaintained since 2023; test/stack/kafka.int.test.ts checks
// admin, produce with key and headers, and consumer groups against the stack's Kafka 4.1 broker.
import { Kafka, logLevel, type KafkaConfig, type RetryOptions, type SASLOptions } from 'kafkajs';

export type { Kafka };
import type { Infra } from './addresses';
import { patchKafkajsCoordinator, patchKafkajsFetchRecovery, patchKafkajsRequestQueue, patchKafkajsWithBroker } from './kafkajs-patch';
import type { Logger } from '../platform/logging';
import { waitUntil } from '../platform/wait';

/** Where the brokers are and how long a request may wait for their answer (infra.kafka, KAFKA_REQUEST_TIMEOUT_MS). */
export type KafkaAddress = Pick<Infra['kafka'], 'brokers' | 'requestTimeoutMs' | 'retryMaxMs' | 'sasl'>;

/** A kafkajs client for the brokers of `kafka`; every Kafka client of the shop is made here (kafkajs patched first: kafkajs-patch.ts). */
export function createKafka(kafka: KafkaAddress, clientId: string, log?: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  patchKafkajsRequestQueue();
  patchKafkajsCoordinator();
  patchKafkajsFetchRecovery();
  patchKafkajsWithBroker();
  return new Kafka(kafkaClientConfig(kafka, clientId, log, extra));
}

/** The kafkajs client configuration createKafka builds: the brokers, the request timeout, the credentials, the logger. */
export function kafkaClientConfig(kafka: KafkaAddress, clientId: string, log?: Logger, extra: Partial<KafkaConfig> = {}): KafkaConfig {
  return {
    clientId,
    brokers: kafka.brokers,
    // kafkajs's default is 30 s; fetches and group joins add their own wait to it (a long poll is no timeout).
    requestTimeout: kafka.requestTimeoutMs,
    // What the client's cluster retries (its coordinator, brokers, metadata) waits at most this between
    // attempts, as many times as kafkajs's default (5): kafkajs's own ceiling, 30 s, let a consumer that had
    // met a lost broker sleep 5 s and then 10 s after the cluster had moved on (KAFKA_RETRY_MAX_MS).
    retry: { maxRetryTime: kafka.retryMaxMs ?? KAFKA_RETRY_MAX_MS_DEFAULT },
    ...(kafka.sasl ? { sasl: { ...kafka.sasl } as SASLOptions } : {}),
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    ...(log
      ? {
          logCreator:
            () =>
            ({ level, log: entry }) => {
              const { message, ...rest } = entry;
              const fn = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
              log[fn]({ kafkajs: rest }, message);
            },
        }
      : {}),
    ...extra,
  };
}

/** KAFKA_RETRY_MAX_MS's default, for clients made without the infra settings (the stack's tools). */
export const KAFKA_RETRY_MAX_MS_DEFAULT = 2000;

/** kafkajs's first wait before it retries a failed request (its own default), doubled (±20%) each time. */
export const KAFKAJS_INITIAL_RETRY_MS = 300;

/**
 * kafkajs retry options for waits that start at 300 ms and double up to `maxMs`, with as many retries as
 * it takes for the waits to add up to `budgetMs` (at least one). kafkajs gives up after the retries (a
 * consumer crashes and restarts); the ceiling bounds how long a client sleeps after what failed is over.
 */
export function kafkaRetry(o: { maxMs: number; budgetMs: number }): Required<Pick<RetryOptions, 'initialRetryTime' | 'maxRetryTime' | 'retries'>> {
  const initialRetryTime = Math.min(KAFKAJS_INITIAL_RETRY_MS, o.maxMs);
  let retries = 0;
  let waited = 0;
  // The doubling waits (a few dozen at most), then the ceiling's as many times as the rest of the budget takes.
  for (let wait = initialRetryTime; wait < o.maxMs && waited < o.budgetMs; wait *= 2) {
    waited += wait;
    retries += 1;
  }
  if (waited < o.budgetMs) retries += Math.ceil((o.budgetMs - waited) / o.maxMs);
  return { initialRetryTime, maxRetryTime: o.maxMs, retries: Math.max(1, retries) };
}

/** Kafka header values arrive as Buffers (or arrays of them); this reads one as a string. */
export function headerString(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined || one === null) return undefined;
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** Creates the topics that do not exist yet and waits until every one has a leader (a no-op for ready ones). */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = -1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        // Leaders are awaited below: kafkajs's own wait fails on the UNKNOWN_TOPIC_OR_PARTITION a fresh KRaft
        // broker answers for a topic created a moment ago, instead of waiting (seen in CI on a new stack).
        await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions })), waitForLeaders: false });
      } catch (err) {
        // Another client (or the broker's auto-creation) may have won the race; that is fine.
        if (!(err instanceof Error && /already exists/i.test(err.message + JSON.stringify((err as { errors?: unknown }).errors ?? '')))) throw err;
      }
    }
    // A topic created a moment ago (here or by a concurrent client) may not have its leaders yet.
    await waitUntil(
      async () => (await admin.fetchTopicMetadata({ topics })).topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
      {
        timeoutMs: 30_000,
        what: `leaders for ${topics.join(', ')}`,
      },
    );
  } finally {
    await admin.disconnect();
  }
}
