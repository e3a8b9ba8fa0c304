// Taking over from a frozen lock holder (docs/concepts.md "Relays: Debezium, or polling"). The polling relay's lock is a session-level
// advisory lock, freed when the holder's session ends. A holder that died loses it with its connection
// (at once, or after TCP keepalive when its host vanished); one frozen inside a transaction is ended by
// PostgreSQL (idle_in_transaction_session_timeout). One frozen between polls (SIGSTOP, a paused VM) keeps
// an idle session for ever: keepalive cannot tell, since a stopped process's kernel still answers. So a
// live holder runs a statement on its lock connection at least every heartbeat, and a standby ends a
// holder session that has been idle longer than the takeover bound, then takes the lock on its next try.
import type pg from 'pg';

/** How often a holder touches its lock connection: well inside the bound, whatever its work is doing. */
export const heartbeatEveryMs = (takeoverAfterMs: number) => Math.max(250, Math.floor(takeoverAfterMs / 5));

/**
 * Keeps the holder's session visibly alive: `select 1` on the lock connection every heartbeat while
 * `holding()` says so, independent of the relay's own work (a repair waiting on Kafka, a long send). pg
 * queues it behind a statement in flight; inside the poll's transaction it is harmless.
 */
export function startHeartbeat(client: pg.Client, takeoverAfterMs: number, holding: () => boolean): () => void {
  const timer = setInterval(() => {
    if (holding()) client.query('select 1').catch(() => undefined); // a dead connection is the tick's to notice
  }, heartbeatEveryMs(takeoverAfterMs));
  timer.unref();
  return () => clearInterval(timer);
}

// In one statement, so that a holder that wakes up between a look and a kill is not ended: the relay
// session (by application name) holding the lock, idle outside a transaction for longer than $2 seconds.
// A bigint advisory key shows in pg_locks as classid = its high 32 bits, objid = its low 32, objsubid = 1.
const TERMINATE_IDLE_HOLDER = `select a.pid, (extract(epoch from clock_timestamp() - a.state_change) * 1000)::float8 as idle_ms,
    pg_terminate_backend(a.pid) as ended
  from pg_locks l join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
    and l.classid = ($1::bigint >> 32)::oid and l.objid = ($1::bigint & 4294967295)::oid and l.objsubid = 1
    and a.application_name = $3 and a.state = 'idle' and a.state_change < clock_timestamp() - make_interval(secs => $2::double precision)`;

/** Ends the lock holder's session when it has been idle past the bound; what it ended, if anything. */
export async function endIdleHolder(
  client: pg.Client,
  lockKey: string,
  takeoverAfterMs: number,
  applicationName: string,
): Promise<{ pid: number; idleMs: number } | undefined> {
  const { rows } = await client.query<{ pid: number; idle_ms: number; ended: boolean }>(TERMINATE_IDLE_HOLDER, [
    lockKey,
    takeoverAfterMs / 1000,
    applicationName,
  ]);
  const ended = rows.find((r) => r.ended);
  return ended ? { pid: ended.pid, idleMs: Math.round(ended.idle_ms) } : undefined;
}
