// A fix to kafkajs 2.2.4's request queue, applied by createKafka (kafka.ts) before it makes a client.
import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (unmaintained since 2023) re-arms its request queue's check after every check, with a
 * delay of `throttledUntil - Date.now()`, about minus the epoch when nothing throttles (throttledUntil
 * starts at -1): each broker connection of every client runs a 1 ms timer loop for as long as it is open
 * (kafkajs issues #1556, #1704, #1751, open upstream), about 900 wake-ups a second in an idle service, and
 * on Node 22+ a TimeoutNegativeWarning. The check only matters while requests wait in the queue (push()
 * arms it when one is queued, a response runs it) or while the broker throttles, so it is armed only then.
 * createKafka patches the queue (once per process) before it makes a client; test/shared/kafka-queue.unit.test.ts
 * checks both halves on kafkajs's own class.
 */
interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}
export const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: KafkajsRequestQueue };
let patched = false;

/** Arms the request queue's check only while a request waits or the broker throttles; idempotent. */
export function patchKafkajsRequestQueue(): void {
  if (patched) return;
  patched = true;
  const scheduleCheck = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckWhenNeeded(this: KafkajsRequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    scheduleCheck.call(this);
  };
}
