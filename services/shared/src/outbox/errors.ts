// What the outbox writer refuses. The HTTP edge answers EventTooLarge with 413 event_too_large
// (http/app.ts); a consumer treats it as any failure of its handler.

/** The event's payload is larger than OUTBOX_MAX_EVENT_BYTES: nothing is written, the transaction fails. */
export class EventTooLarge extends Error {
  constructor(
    readonly eventType: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the ${eventType} event would be ${bytes} bytes; the limit is ${limit} (OUTBOX_MAX_EVENT_BYTES)`);
    this.name = 'EventTooLarge';
  }
}
