// kafkajs's request queue, as createKafka patches it (services/shared/src/infra/kafkajs-patch.ts): idle, it arms no timer (kafkajs
// 2.2.4 would run a 1 ms loop forever); with a request waiting, or while the broker throttles, the check
// is still armed, so nothing queued is left behind.
import { jest } from '@jest/globals';
import { patchKafkajsRequestQueue, RequestQueue } from '@qtshop/shared/infra';

type Queue = { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: unknown; scheduleCheckPendingRequests(): void };
const queue = (over: Partial<Queue>): Queue =>
  Object.assign(Object.create(RequestQueue.prototype as object) as Queue, { pending: [], throttledUntil: -1, throttleCheckTimeoutId: null }, over);

describe("kafkajs's request queue check", () => {
  beforeAll(() => patchKafkajsRequestQueue());
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer when nothing waits and nothing throttles', () => {
    const q = queue({});
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('arms the check while a request waits in the queue', () => {
    const q = queue({ pending: [{}] });
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    expect(jest.getTimerCount()).toBe(1);
  });

  it('arms the check while the broker throttles, for when the throttle ends', () => {
    const q = queue({ throttledUntil: Date.now() + 500 });
    q.scheduleCheckPendingRequests();
    expect(jest.getTimerCount()).toBe(1);
  });
});
