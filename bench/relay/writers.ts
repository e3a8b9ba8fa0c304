// Writers: the events, the open-loop schedule, the outbox writer and the baseline's direct producer.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Knex } from '@qtshop/shared/infra';
import { traceparentFrom } from '@qtshop/shared/observability';
import { createOutboxWriter, outboxRecord } from '@qtshop/shared/outbox';

const outbox = createOutboxWriter();
import { now, sleep, type RunState, type Tracker } from './tracker';

export interface BenchEvent {
  id: string;
  aggregateId: string;
  payload: { productId: string; name: string; description: string; type: string; brand: string; pictureUrl: string; price: number; version: number };
}

export function eventFactory(payloadBytes: number): () => BenchEvent {
  const base = {
    productId: randomUUID(),
    name: 'Bench kettle',
    description: '',
    type: 'bench',
    brand: 'QT-Shop',
    pictureUrl: 'https://img.example/bench.png',
    price: 2599,
    version: 1,
  };
  const pad = 'x'.repeat(Math.max(0, payloadBytes - JSON.stringify(base).length));
  return () => {
    const productId = randomUUID();
    return { id: randomUUID(), aggregateId: productId, payload: { ...base, productId, description: pad } };
  };
}

/**
 * Open-loop writer: event i is due at start + i/rate whatever happened to earlier ones; `launch(k)` writes
 * k events (one transaction or one send). At most `maxInFlight` launches run at once; when they are all
 * busy the writer falls behind its schedule, and the worst delay is reported as writerLagMaxMs.
 */
export async function openLoop(o: {
  rate: number;
  total: number;
  perLaunch: number;
  maxInFlight: number;
  launch: (k: number) => Promise<void>;
  tick?: () => void;
  signal?: AbortSignal;
}): Promise<{ startedAt: number; endedAt: number; lagMaxMs: number }> {
  const startedAt = now();
  const inflight = new Set<Promise<void>>();
  let issued = 0;
  let lagMaxMs = 0;
  while (issued < o.total) {
    o.signal?.throwIfAborted();
    const elapsed = now() - startedAt;
    const due = Math.min(o.total, Math.floor((elapsed * o.rate) / 1000) + 1);
    while (issued < o.total && due - issued >= Math.min(o.perLaunch, o.total - issued) && inflight.size < o.maxInFlight) {
      const k = Math.min(o.perLaunch, o.total - issued);
      lagMaxMs = Math.max(lagMaxMs, now() - startedAt - ((issued + k - 1) * 1000) / o.rate);
      const p: Promise<void> = o.launch(k).finally(() => inflight.delete(p));
      inflight.add(p);
      issued += k;
    }
    o.tick?.();
    if (issued >= o.total) break;
    if (inflight.size >= o.maxInFlight) await Promise.race(inflight);
    else await sleep(Math.max(1, ((issued + Math.min(o.perLaunch, o.total - issued) - 1) * 1000) / o.rate - (now() - startedAt)));
  }
  await Promise.all(inflight);
  return { startedAt, endedAt: now(), lagMaxMs: Math.max(0, lagMaxMs) };
}

/** Writes events through the shared outbox writer, `k` per transaction. */
export function dbWriter(db: Knex, tracker: Tracker, newEvent: () => BenchEvent) {
  return async (run: RunState, k: number): Promise<void> => {
    const events = Array.from({ length: k }, newEvent);
    const ids = events.map((e) => e.id);
    tracker.expect(run, ids);
    try {
      await db.transaction(async (trx) => {
        for (const e of events) await outbox.append(trx, { type: 'ProductUpdated', aggregateId: e.aggregateId, payload: e.payload, id: e.id });
      });
    } catch {
      tracker.failed(run, ids);
      return;
    }
    tracker.committed(run, ids, now());
  };
}

/**
 * The baseline's producer side: events handed over are sent as soon as the previous request finished,
 * all that queued up meanwhile in one request (what the Java producer does too). Same producer settings as
 * the polling relay: idempotent, acks=-1, one request in flight, Java-compatible partitioner.
 */
export class DirectSender {
  private queue: Array<{ run: RunState; ids: string[]; messages: ReturnType<typeof outboxRecord>['message'][] }> = [];
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly tracker: Tracker,
    private readonly aggregateType: string,
    private readonly maxBatch = 500,
  ) {}

  /** Hands events over; their "commit" time is now (they exist from here on, as a committed row does). */
  push(run: RunState, events: BenchEvent[]): void {
    const ids = events.map((e) => e.id);
    this.tracker.expect(run, ids);
    this.tracker.committed(run, ids, now());
    const record = (e: BenchEvent) =>
      outboxRecord({
        id: e.id,
        aggregatetype: this.aggregateType,
        aggregateid: e.aggregateId,
        type: 'ProductUpdated',
        payload: e.payload,
        traceparent: traceparentFrom(),
      });
    const messages = events.map((e) => record(e).message);
    this.queue.push({ run, ids, messages });
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  async flush(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: typeof this.queue = [];
      let n = 0;
      while (this.queue.length > 0 && n < this.maxBatch) {
        const item = this.queue.shift()!;
        batch.push(item);
        n += item.messages.length;
      }
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.flatMap((b) => b.messages) });
      } catch {
        for (const b of batch) {
          b.run.sent -= b.ids.length;
          this.tracker.failed(b.run, b.ids);
        }
      }
    }
  }
}
