// kafkajs's negative timeout warning under Node 22+ is dropped (npm run status must keep stderr clean);
// every other warning still reaches the process, a negative timeout of our own included. The filter itself
// is seen at work on a real process by test/status/status.int.test.ts (an empty stderr).
import { isKafkajsNegativeTimeout } from '@qtshop/shared';

const KAFKAJS_FRAME = '    at RequestQueue.scheduleCheckPendingRequests (/app/node_modules/kafkajs/src/network/requestQueue/index.js:317:37)';

describe('isKafkajsNegativeTimeout', () => {
  it("recognises the TimeoutNegativeWarning of kafkajs's request queue only", () => {
    expect(isKafkajsNegativeTimeout('-1796392974858 is a negative number.', 'TimeoutNegativeWarning', `Error\n${KAFKAJS_FRAME}`)).toBe(true);
    expect(isKafkajsNegativeTimeout('-5 is a negative number.', 'TimeoutNegativeWarning', 'Error\n    at poll (/app/services/relay/src/polling.ts:10:3)')).toBe(
      false,
    );
    expect(isKafkajsNegativeTimeout('something deprecated', 'DeprecationWarning', `Error\n${KAFKAJS_FRAME}`)).toBe(false);
  });
});
