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
  CONSUMER_KAFKA_RETRY_MAX_MS: {
    doc: "Longest wait between kafkajs's attempts at a consumer's failing Kafka requests (a fetch, heartbeat or offset commit that finds a broker gone or a partition without its leader), from 300 ms doubling; kafkajs's own ceiling is 30 s, which left a consumer idle for up to that long after the failure was over (a broker lost, its partitions' leaders moved). Retries happen only while requests fail: a healthy consumer sends nothing more",
    default: '2000',
    schema: env.int(1),
  },
  CONSUMER_KAFKA_RETRY_BUDGET_MS: {
    doc: "About how long in all kafkajs waits between attempts at a consumer's failing Kafka requests (spaced as CONSUMER_KAFKA_RETRY_MAX_MS says, counted until the consumer's next rebalance) before it restarts the consumer, which joins its group again as a new member after its last wait: kafkajs's retry count (62 with the defaults)",
    default: '120000',
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
  kafkaRetryMaxMs: c.CONSUMER_KAFKA_RETRY_MAX_MS,
  kafkaRetryBudgetMs: c.CONSUMER_KAFKA_RETRY_BUDGET_MS,
});
export type ConsumerTuning = ReturnType<typeof consumerTuning>;
