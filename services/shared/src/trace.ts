// W3C trace context (traceparent) carried from an HTTP request to the events it causes.
import { randomBytes } from 'node:crypto';

/** A W3C traceparent of version 00: 00-<trace id>-<span id>-<flags>. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(v: unknown): v is string {
  const m = typeof v === 'string' ? TRACEPARENT.exec(v) : null;
  return !!m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}

/** A child span of `parent` when it is a valid traceparent, else the root of a new trace. */
export function traceparentFrom(parent?: unknown): string {
  const span = randomBytes(8).toString('hex');
  if (isTraceparent(parent)) {
    const [, trace, , flags] = TRACEPARENT.exec(parent)!;
    return `00-${trace}-${span}-${flags}`;
  }
  return `00-${randomBytes(16).toString('hex')}-${span}-01`;
}
