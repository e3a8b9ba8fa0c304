// The W3C traceparent on the wire: the outbox's traceparent column and the Kafka header both relays copy it
// to. The services' spans and their propagation are tracing.ts's; this is the format the event contract
// states, and a traceparent for rows and records written by hand.
import { randomBytes } from 'node:crypto';

/** A W3C traceparent of version 00: 00-<trace id>-<span id>-<flags>. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The root of a new trace, for outbox rows and Kafka records written by hand (tests, tools, benchmarks). */
export function traceparentFrom(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
