// The settings every consuming service spreads into its config, and the runner options they set.
import { env, type ConfigOf } from '../../platform/config';

/** Settings of every consuming service (spread into its config; consumerTuning reads them). */
export const consumerSettings = {
  CONSUMER_MAX_BATCH: {
    doc: 'Most consecutive events of one partition a consumer applies in one database transaction (one multi-row inbox insert, one commit); 1 applies each event in a transaction of its own. A failing batch is retried event by event, so a poison event is still dead-lettered alone',
    default: '100',
    schema: env.int(1),
  },
  CONSUMER_PARTITIONS_CONCURRENTLY: {
    doc: 'Partitions a consumer processes at once (each in its own transactions, per-key order kept within a partition)',
    default: '1',
    schema: env.int(1),
  },
  CONSUMER_RETRY_BUDGET_MS: {
    doc: "How long an event whose handler keeps failing (not a schema violation, not a transient database outage, which is waited out for as long as it lasts) is retried before it is dead-lettered, from its first failure. After 5 quick attempts its partition is paused and the event retried in the background (the consumer's other partitions go on), so a deploy whose code runs before its migration settles by itself. 0 dead-letters after the quick attempts",
    default: '300000',
    schema: env.int(0),
  },
  CONSUMER_RETRY_BACKOFF_MAX_MS: {
    doc: 'Longest wait between background attempts of a paused partition: a failing handler within CONSUMER_RETRY_BUDGET_MS, or a dead letter Kafka refuses (retried for as long as it is refused; the message is never dropped)',
    default: '10000',
    schema: env.int(1),
  },
  CONSUMER_STALL_MS: {
    doc: 'A consumer with partitions assigned that completed no fetch and no batch for this long (kafkajs crashed for good, or its restarts never get going) is restarted by its service; /ready says not consuming meanwhile',
    default: '60000',
    schema: env.int(1000),
  },
  CONSUMER_RESTART_BACKOFF_MS: {
    doc: 'First wait before a service restarts a consumer that stopped consuming; doubles with each restart that did not get it consuming for CONSUMER_STALL_MS, up to 30 s',
    default: '1000',
    schema: env.int(1),
  },
  CONSUMER_MAX_RESTARTS: {
    doc: 'Restarts in a row that did not get a consumer consuming again before the service exits with status 1, so that what supervises it (npm start, a restart policy, Kubernetes) starts it afresh',
    default: '5',
    schema: env.int(1),
  },
};

/** The runner options consumerSettings set. */
export const consumerTuning = (c: ConfigOf<typeof consumerSettings>) => ({
  maxBatch: c.CONSUMER_MAX_BATCH,
  partitionsConsumedConcurrently: c.CONSUMER_PARTITIONS_CONCURRENTLY,
  retryBudgetMs: c.CONSUMER_RETRY_BUDGET_MS,
  parkedBackoffMaxMs: c.CONSUMER_RETRY_BACKOFF_MAX_MS,
  stallMs: c.CONSUMER_STALL_MS,
  restartBackoffMs: c.CONSUMER_RESTART_BACKOFF_MS,
  maxRestarts: c.CONSUMER_MAX_RESTARTS,
});
export type ConsumerTuning = ReturnType<typeof consumerTuning>;
