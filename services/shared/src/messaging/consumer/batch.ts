// One fetched batch of one partition: messages skipped, decoded or dead-lettered in offset order, and the
// valid events applied together through the inbox's batch, or one by one when that fails.
//
// Batches: consecutive valid events of one fetched partition batch (up to CONSUMER_MAX_BATCH) go through the
// inbox together (PostgreSQL: one transaction, one multi-row inbox insert, the handlers in offset order, one
// commit), so a busy consumer pays one commit per batch instead of one per event. If the batch fails for
// any reason its events are taken one by one (handling.ts; the inbox skips those it recorded), so a poison
// event is still dead-lettered alone and the others are applied once. An invalid message ends the batch
// before it (it is dead-lettered in its place in the order). Offsets are resolved after each commit.
import { context } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { isEventType } from '../../events/registry';
import { headerString } from '../../infra/kafka';
import { isUuid } from '../../platform/ids';
import type { Logger } from '../../platform/logging';
import type { Inbox, InboxResult } from '../inbox/inbox';
import type { DeadLetters } from './dead-letter';
import { DeadLetter, decodeEvent } from './decode';
import type { BatchLock, ConsumedEvent, Handlers } from './event';
import type { EventHandling } from './handling';
import type { ConsumerLiveness } from './liveness';
import { lostMembership, withHeartbeats } from './membership';
import { Park, type ParkingLot } from './parking';
import type { ConsumerTelemetry } from './telemetry';

export interface BatchOptions<Tx> {
  handlers: Handlers<Tx>;
  /** The locks of a batch's events, taken before its handlers run (BatchLock). */
  lockBatch?: BatchLock<Tx>;
  inbox: Inbox<Tx>;
  log: Logger;
  /** Most valid events applied in one inbox batch. */
  maxBatch: number;
  heartbeatInterval: number;
  telemetry: ConsumerTelemetry;
  deadLetters: DeadLetters;
  handling: EventHandling<Tx>;
  liveness: ConsumerLiveness;
  lot: ParkingLot;
  /** Whether `consumer` is still the runner's kafkajs consumer (a restart replaces it). */
  isCurrent: (consumer: Consumer) => boolean;
}

/** The runner's eachBatch: one fetched batch of one partition; a message that cannot be settled now parks the partition (Park). */
export function batchHandler<Tx>(o: BatchOptions<Tx>): (consumer: Consumer, payload: EachBatchPayload) => Promise<void> {
  const { telemetry: t, deadLetters, handling, liveness, lot, heartbeatInterval, maxBatch } = o;

  /**
   * A well-formed event of a type this service has no handler for is skipped from its headers, without
   * parsing or validating its value (a topic carries several types; the others are not this service's).
   */
  function skippedUnread(message: KafkaMessage): boolean {
    const type = headerString(message.headers, 'eventType');
    if (!isEventType(type) || o.handlers[type] || !isUuid(headerString(message.headers, 'id'))) return false;
    t.outcome(type, 'skipped');
    return true;
  }

  /**
   * Several valid messages of one partition, in offset order, through the inbox's batch: one transaction
   * for all of them. If that fails for any reason (a poison event, the database away, a deadlock), nothing
   * of it committed and each message goes through the one-by-one path, with its retries and dead letters,
   * each resolved as it is settled (a parked one leaves those before it resolved).
   */
  async function handleChunk(
    topic: string,
    partition: number,
    chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }>,
    heartbeat: () => Promise<void>,
    resolveOffset: (offset: string) => void,
  ) {
    const oneByOne = async () => {
      for (const { message, event } of chunk) {
        await handling.traced(event, message, heartbeat);
        resolveOffset(message.offset);
      }
    };
    if (!o.inbox.processBatch || chunk.length < 2) return oneByOne();
    const spans = chunk.map((c) => t.startProcessSpan(topic, partition, c.message));
    const items = chunk.map((c, n) => {
      const { ctx } = spans[n]!;
      const handler = handling.handlerOf(c.event)!; // only the types this service handles reach a chunk (skippedUnread)
      return {
        event: c.event,
        fn: (tx: Tx) => context.with(ctx, () => t.handleSpan(c.event.type, 1, () => handler(c.event, tx))),
      };
    });
    let results: InboxResult[];
    try {
      const { value, lost } = await withHeartbeats(heartbeat, heartbeatInterval, () => o.inbox.processBatch!(items, o.lockBatch));
      if (lost !== undefined) throw lost;
      results = value;
    } catch (err) {
      for (const { span } of spans) span.end();
      if (lostMembership(err)) throw err;
      t.batchFellBack();
      o.log.warn(
        {
          topic,
          partition,
          from: chunk[0]!.message.offset,
          to: chunk.at(-1)!.message.offset,
          err: { message: (err as Error).message, code: (err as { code?: string }).code },
        },
        'batch failed; taking its events one by one',
      );
      return oneByOne();
    }
    t.batch(chunk.length);
    // Each event's log line in its own process span, so that it carries the event's trace (as one handled alone does).
    for (const [n, c] of chunk.entries()) {
      const { span, ctx } = spans[n]!;
      t.endSpan(span, await context.with(ctx, () => handling.record(c.event, c.message, results[n]!)));
    }
    resolveOffset(chunk.at(-1)!.message.offset);
  }

  return async function eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale: moved, pause } = payload;
    const { topic, partition } = batch;
    let chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }> = [];
    const flush = async () => {
      if (!chunk.length) return;
      const taken = chunk;
      chunk = [];
      await handleChunk(topic, partition, taken, heartbeat, resolveOffset);
      await commitOffsetsIfNecessary();
    };
    liveness.enterBatch();
    try {
      for (const message of batch.messages) {
        // Stopping, or the partition moved in a rebalance: what is left stays uncommitted for its next owner.
        if (!isRunning() || moved()) return;
        if (lot.settledAt(topic, partition, message.offset)) {
          resolveOffset(message.offset); // settled while its partition was parked: neither applied nor dead-lettered again
          continue;
        }
        if (skippedUnread(message)) continue; // resolved with the next commit, or the batch's end
        let event: ConsumedEvent | undefined;
        try {
          event = decodeEvent(topic, partition, message);
        } catch (err) {
          if (!(err instanceof DeadLetter)) throw err;
          await flush(); // the events before it first: a refused dead letter parks the partition behind them
          o.log.warn({ topic, partition, offset: message.offset, reason: err.reason, error: err.message }, 'dead-lettering invalid message');
          await deadLetters.deadLetter(topic, partition, message, err.reason, err.message, 0);
          resolveOffset(message.offset);
          continue;
        }
        chunk.push({ message, event });
        if (chunk.length >= maxBatch) await flush();
      }
      if (!isRunning() || moved()) return;
      await flush();
      // Past the last record: a transaction marker after it would otherwise stay unread forever.
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
    } catch (err) {
      if (!(err instanceof Park)) throw err;
      // What was settled before it is committed; the message itself stays unresolved, its partition paused.
      await commitOffsetsIfNecessary().catch(() => undefined);
      pause();
      lot.park(err, () => {
        if (o.isCurrent(consumer)) consumer.resume([{ topic, partitions: [partition] }]);
      });
    } finally {
      liveness.leaveBatch(Date.now());
    }
  };
}
