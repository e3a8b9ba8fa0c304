// Tracking sent and received events: every event is registered before its transaction commits and
// matched, by its id header, when the consumer (a worker thread) receives its record.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { KafkaSasl } from '@qtshop/shared/infra';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Tracked {
  run: RunState;
  committedAt: number;
  firstAt: number;
  count: number;
}

export interface RunState {
  label: string;
  sent: number;
  received: number;
  /** Receipts after the first of an id. */
  duplicated: number;
  writeErrors: number;
  ids: string[];
}

/** Milliseconds on a clock shared with the consumer's worker thread (performance.now() alone is per thread). */
export const now = () => performance.timeOrigin + performance.now();

export class Tracker {
  readonly events = new Map<string, Tracked>();
  foreign = 0;
  /**
   * A run written by a writer that cannot tell its ids (pgbench): records of unknown ids are this run's,
   * committed at their createdAt header. Runs follow each other, so an unknown id is the open run's.
   */
  adopting: RunState | undefined;
  /** The consumer's crash, if it crashed: waits for records give up at once then. */
  consumerFailure: () => Error | undefined = () => undefined;

  newRun(label: string): RunState {
    return { label, sent: 0, received: 0, duplicated: 0, writeErrors: 0, ids: [] };
  }

  /** Registers ids before their transaction commits (a record can arrive before the commit callback runs). */
  expect(run: RunState, ids: string[]): void {
    for (const id of ids) this.events.set(id, { run, committedAt: Number.NaN, firstAt: Number.NaN, count: 0 });
  }

  committed(run: RunState, ids: string[], at: number): void {
    for (const id of ids) {
      const t = this.events.get(id);
      if (t) t.committedAt = at;
    }
    run.sent += ids.length;
    run.ids.push(...ids);
  }

  failed(run: RunState, ids: string[]): void {
    for (const id of ids) this.events.delete(id);
    run.writeErrors += ids.length;
  }

  received(id: string | undefined, at: number, createdAt: number | null = null): void {
    let t = id ? this.events.get(id) : undefined;
    if (!t && id && this.adopting && createdAt !== null) {
      t = { run: this.adopting, committedAt: createdAt, firstAt: Number.NaN, count: 0 };
      this.events.set(id, t);
      this.adopting.ids.push(id);
    }
    if (!t) {
      this.foreign++;
      return;
    }
    t.count++;
    if (t.count === 1) {
      t.firstAt = at;
      t.run.received++;
    } else {
      t.run.duplicated++;
    }
  }
}

export interface ConsumerWorker {
  stop(): Promise<void>;
}

/**
 * Starts the consumer in a worker thread (bench/lib/consumer-worker.mjs): a fresh group reading the topic
 * from the beginning; resolves once the group is joined. Receipts are fed to the tracker with the
 * worker's timestamps.
 */
export async function startConsumer(
  data: { brokers: string[]; sasl?: KafkaSasl | undefined; topic: string; groupId: string; clientId: string },
  tracker: Tracker,
): Promise<ConsumerWorker> {
  const worker = new Worker(new URL('../lib/consumer-worker.mjs', import.meta.url), { workerData: data });
  let failure: Error | undefined;
  const joined = new Promise<void>((resolveJoin, rejectJoin) => {
    worker.on('message', (m: { type: string; at?: number; ids?: Array<string | null>; created?: Array<number | null>; message?: string }) => {
      if (m.type === 'batch') m.ids!.forEach((id, i) => tracker.received(id ?? undefined, m.at!, m.created?.[i] ?? null));
      else if (m.type === 'joined') resolveJoin();
      else if (m.type === 'error') {
        failure = new Error(`consumer: ${m.message}`);
        rejectJoin(failure);
      }
    });
    worker.on('error', (err) => {
      failure = err;
      rejectJoin(err);
    });
    worker.on('exit', (code) => rejectJoin(new Error(`consumer worker exited (${code}) before joining its group`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('consumer did not join its group within 60 s')), 60_000);
  });
  try {
    await Promise.race([joined, timeout]);
  } catch (err) {
    await worker.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  tracker.consumerFailure = () => failure;
  return {
    async stop() {
      let timer: NodeJS.Timeout | undefined;
      const stopped = new Promise<void>((r) => {
        worker.on('message', (m: { type: string }) => m.type === 'stopped' && r());
        timer = setTimeout(r, 10_000);
      });
      worker.postMessage({ type: 'stop' });
      await stopped;
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
