// Parked partitions (runner.ts): a message that cannot be settled now (its dead letter is refused by
// Kafka, or its handler keeps failing within the retry budget: retry.ts) must neither be dropped
// nor hold up the rest of the consumer. Its partition is paused where it is (the offset of the message stays
// unresolved, so nothing behind it is applied first) and the message is retried in the background with
// capped backoff; the consumer's other partitions and topics keep flowing. Once settled (applied, or
// dead-lettered), the partition resumes: Kafka delivers the same message again and the runner skips it
// (settledAt), so it is neither applied nor dead-lettered twice. While a partition waits, waiting() says
// which, where and why: /ready, the consumer_partitions_waiting gauge and npm run status show it.
import type { Logger } from '../../platform/logging';
import { backoffDelay } from './retry';

/** One background attempt to settle a parked message. */
export interface ParkedWork {
  /** Resolves once the message is settled (applied or dead-lettered); throws to be tried again later. */
  attempt(): Promise<void>;
  /** Why the partition still waits after `err`, in one sentence. */
  why(err: unknown): string;
}

/** Thrown through a batch to park its partition at `offset`: the runner pauses it and hands `work` over. */
export class Park extends Error {
  override name = 'Park';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly reason: string,
    readonly work: ParkedWork,
    /** Log fields of the message (event id and type when known). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(`${topic}[${partition}] parked at offset ${offset}: ${reason}`);
  }
}

export interface WaitingPartition {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  /** When it was parked (epoch ms). */
  since: number;
  /** Background attempts that failed so far. */
  attempts: number;
}

interface Entry {
  state: WaitingPartition;
  resume: () => void;
  cancelled: boolean;
  wake?: () => void;
  done: Promise<void>;
}

const keyOf = (topic: string, partition: number) => `${topic}\0${partition}`;

export class ParkingLot {
  private readonly entries = new Map<string, Entry>();
  /** Per partition, the offset of the last message settled while parked: skipped once when Kafka delivers it again. */
  private readonly settled = new Map<string, string>();

  constructor(private readonly opts: { initialMs: number; maxMs: number; log: Logger; onChange?: () => void }) {}

  /** Pauses nothing itself: the caller paused the partition; `resume` un-pauses it once the message is settled. */
  park(p: Park, resume: () => void): void {
    const key = keyOf(p.topic, p.partition);
    if (this.entries.has(key)) return; // one message per partition can wait: the partition is paused behind it
    const log = this.opts.log.child({ topic: p.topic, partition: p.partition, offset: p.offset, ...p.fields });
    const entry: Entry = {
      state: { topic: p.topic, partition: p.partition, offset: p.offset, reason: p.reason, since: Date.now(), attempts: 0 },
      resume,
      cancelled: false,
      done: Promise.resolve(),
    };
    log.warn({ reason: p.reason }, 'partition paused: its message cannot be settled now; retrying it in the background, other partitions go on');
    this.entries.set(key, entry);
    this.opts.onChange?.();
    entry.done = (async () => {
      for (let n = 0; !entry.cancelled; n++) {
        await this.sleep(entry, backoffDelay(this.opts.initialMs, this.opts.maxMs, n));
        if (entry.cancelled) return;
        try {
          await p.work.attempt();
        } catch (err) {
          entry.state.attempts += 1;
          entry.state.reason = p.work.why(err);
          log.warn({ reason: entry.state.reason, attempts: entry.state.attempts }, 'parked message still cannot be settled; retrying');
          continue;
        }
        if (entry.cancelled) return;
        this.settled.set(key, p.offset);
        this.entries.delete(key);
        this.opts.onChange?.();
        log.info({ waitedMs: Date.now() - entry.state.since, attempts: entry.state.attempts + 1 }, 'parked message settled; partition resumed');
        resume();
        return;
      }
    })();
  }

  /** True (once) when the message at `offset` was settled while its partition was parked: skip it. */
  settledAt(topic: string, partition: number, offset: string): boolean {
    const key = keyOf(topic, partition);
    if (this.settled.get(key) !== offset) return false;
    this.settled.delete(key);
    return true;
  }

  waiting(): WaitingPartition[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  /** Gives up the partitions `keep` rejects (a rebalance moved them): their next owner meets the message again. */
  release(keep: (topic: string, partition: number) => boolean): void {
    for (const [key, e] of this.entries) {
      if (keep(e.state.topic, e.state.partition)) continue;
      this.cancel(key, e);
      this.opts.log.info(
        { topic: e.state.topic, partition: e.state.partition },
        'parked partition no longer assigned here; its next owner retries the message',
      );
    }
  }

  /** Cancels every parked message and waits for attempts in flight (stop, restart). */
  async clear(): Promise<void> {
    const done = [...this.entries].map(([key, e]) => (this.cancel(key, e), e.done));
    this.settled.clear();
    await Promise.all(done);
  }

  /** Un-pauses the partition too: paused stays paused in kafkajs across rebalances, should it come back here. */
  private cancel(key: string, e: Entry): void {
    e.cancelled = true;
    e.wake?.();
    e.resume();
    this.entries.delete(key);
    this.settled.delete(key);
    this.opts.onChange?.();
  }

  private sleep(e: Entry, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        e.wake = undefined;
        resolve();
      }
      e.wake = done;
    });
  }
}
