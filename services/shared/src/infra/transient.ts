// Which failures a consumer waits out instead of dead-lettering (messaging/consumer/handling.ts): the database, or the network
// to it, is unavailable or failing over, or two transactions conflicted. Retried with backoff for as long
// as they last, the message is never skipped.

/**
 * PostgreSQL SQLSTATEs of a brief outage or conflict: 25006 read-only transaction (connected to a standby
 * during a failover), 57014 query canceled, 55P03 lock not available, 40001 serialization failure, 40P01
 * deadlock; and the classes 08 (connection), 57P (shutdown, cannot connect now) and 53 (resources).
 */
const PG_TRANSIENT = new Set(['25006', '57014', '55P03', '40001', '40P01']);
const PG_TRANSIENT_CLASS = /^(08|57P|53)/;

/**
 * MongoDB server error codes of a replica set changing primary or a node shutting down: 10107
 * NotWritablePrimary, 13435 NotPrimaryNoSecondaryOk, 13436 NotPrimaryOrSecondary, 189 PrimarySteppedDown,
 * 91 ShutdownInProgress, 11600 InterruptedAtShutdown, 11602 InterruptedDueToReplStateChange; and network
 * failures seen by the server: 6 HostUnreachable, 7 HostNotFound, 89 NetworkTimeout, 9001 SocketException.
 */
const MONGO_TRANSIENT = new Set([10107, 13435, 13436, 189, 91, 11600, 11602, 6, 7, 89, 9001]);
/** Labels the MongoDB driver or server put on errors that a retry is expected to get past. */
const MONGO_TRANSIENT_LABELS = ['RetryableWriteError', 'ResetPool', 'InterruptInUseConnections'];
const MONGO_TRANSIENT_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
]);

/** Errors worth waiting out: the database (or network to it) is unavailable or failing over, or a concurrency conflict. */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string | number; message?: string; name?: string; errorLabels?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'number' && MONGO_TRANSIENT.has(e.code)) return true;
  if ((e.name && MONGO_TRANSIENT_NAMES.has(e.name)) || hasMongoLabel(e)) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  if (PG_TRANSIENT.has(code) || PG_TRANSIENT_CLASS.test(code)) return true;
  if (e.name === 'KnexTimeoutError') return true;
  return /Connection terminated|connection (?:is )?closed|not connected|Client has encountered a connection error/i.test(e.message ?? '');
}

function hasMongoLabel(e: { errorLabels?: unknown }): boolean {
  // MongoError exposes its labels as a getter returning an array.
  const labels = Array.isArray(e.errorLabels) ? (e.errorLabels as unknown[]) : [];
  return labels.some((l) => typeof l === 'string' && MONGO_TRANSIENT_LABELS.includes(l));
}

/**
 * PostgreSQL SQLSTATE classes of a failure caused by the event's own data, which no retry of the same event
 * can get past: 22 data exception (a value of the wrong form or out of range: invalid_text_representation,
 * numeric_value_out_of_range) and 23 integrity constraint violation. MongoDB's DocumentValidationFailure
 * (121) and BadValue (2) likewise. Anything else that is not transient (an undefined table or column while
 * a deploy runs before its migration, a privilege not granted yet, a bug) may be fixed while the event
 * waits.
 */
const PG_EVENT_FAULT_CLASS = /^(22|23)/;
const MONGO_EVENT_FAULT = new Set([2, 121]);

/** Whether retrying the same event can never succeed: its data is what the database refuses (messaging/consumer/retry.ts). */
export function isEventFault(err: unknown): boolean {
  const e = err as { code?: string | number; name?: string };
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'number') return MONGO_EVENT_FAULT.has(e.code) && (e.name ?? '').startsWith('Mongo');
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && PG_EVENT_FAULT_CLASS.test(e.code);
}
