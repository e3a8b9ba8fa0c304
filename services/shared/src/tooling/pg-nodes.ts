// The PostgreSQL nodes behind the primary's address (the local stack with STACK_PG_STANDBY): each node's
// role, how far its standby is behind, and whether Debezium's failover slots have their copies on the
// standby. `npm run stack -- status` and `npm run status` show it; judgePgNodes says what is wrong.
import pg from 'pg';
import { type Infra, type PgNode } from '../infra/addresses';
import { pgConnection } from '../infra/db';

export interface PgSlotState {
  name: string;
  /** The slot is created for failover (slot.failover): PostgreSQL copies it to a standby that syncs slots. */
  failover: boolean;
  /** On a standby: this copy was synchronized from the primary (and is not a temporary one still catching up). */
  synced: boolean;
}

export interface PgNodeState {
  id: number;
  port: number;
  role: 'primary' | 'standby' | 'down';
  /** Why the node could not be asked (role down). */
  error?: string;
  /** On the primary: each standby streaming from it, by application_name, with its replay lag. */
  standbys?: Array<{ name: string; state: string; lagBytes: number; sync: string }>;
  /** Logical slots: on the primary, every one; on a standby, its synchronized copies. */
  slots: PgSlotState[];
}

async function inspectOne(infra: Infra, node: PgNode): Promise<PgNodeState> {
  const c = new pg.Client({ ...pgConnection(infra.pg, 'postgres'), port: node.port, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    const { rows } = await c.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
    const standby = rows[0]?.standby === true;
    const slots = await c.query<{ slot_name: string; failover: boolean; synced: boolean; temporary: boolean }>(
      "select slot_name, failover, synced, temporary from pg_replication_slots where slot_type = 'logical' order by slot_name",
    );
    const state: PgNodeState = {
      id: node.id,
      port: node.port,
      role: standby ? 'standby' : 'primary',
      slots: slots.rows.map((s) => ({ name: s.slot_name, failover: s.failover, synced: s.synced && !s.temporary })),
    };
    if (!standby) {
      const rep = await c.query<{ application_name: string; state: string; lag: string | null; sync_state: string }>(
        'select application_name, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint as lag, sync_state from pg_stat_replication order by application_name',
      );
      state.standbys = rep.rows.map((r) => ({ name: r.application_name, state: r.state, lagBytes: Number(r.lag ?? 0), sync: r.sync_state }));
    }
    return state;
  } catch (err) {
    return { id: node.id, port: node.port, role: 'down', error: err instanceof Error ? err.message : String(err), slots: [] };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Every node of infra.pg.nodes, asked directly on its own port (not through the proxy). */
export function inspectPgNodes(infra: Infra): Promise<PgNodeState[]> {
  return Promise.all(infra.pg.nodes.map((n) => inspectOne(infra, n)));
}

/** The failover slots of the primary that have no synchronized copy on the standby. */
export function unsyncedSlots(nodes: PgNodeState[]): string[] {
  const primary = nodes.find((n) => n.role === 'primary');
  const standby = nodes.find((n) => n.role === 'standby');
  if (!primary || !standby) return [];
  const copies = new Set(standby.slots.filter((s) => s.synced).map((s) => s.name));
  return primary.slots.filter((s) => s.failover && !copies.has(s.name)).map((s) => s.name);
}

/** What is wrong with the nodes, as [level, sentence]: no primary is bad; no standby, a lagging one or unsynchronized slots warn. */
export function judgePgNodes(nodes: PgNodeState[], lagWarnBytes = 16 * 1024 * 1024): Array<['bad' | 'warn', string]> {
  if (nodes.length === 0) return [];
  const out: Array<['bad' | 'warn', string]> = [];
  const primaries = nodes.filter((n) => n.role === 'primary');
  if (primaries.length === 0) out.push(['bad', 'no node is the primary: nothing can be written (npm run stack -- failover promotes the standby)']);
  if (primaries.length > 1) out.push(['bad', `${primaries.length} nodes accept writes (split brain): the proxy sends clients to the first; fence the other`]);
  const standby = nodes.find((n) => n.role === 'standby');
  if (!standby) out.push(['warn', 'no standby: a failover is not possible (npm run stack -- rebuild-standby makes one)']);
  const primary = primaries[0];
  if (primary && standby) {
    const streaming = primary.standbys?.find((s) => s.name === `node_${standby.id}` && s.state === 'streaming');
    if (!streaming) out.push(['warn', `node ${standby.id} is a standby but not streaming from the primary`]);
    else if (streaming.lagBytes > lagWarnBytes) out.push(['warn', `node ${standby.id} replays ${streaming.lagBytes} bytes behind the primary`]);
    const unsynced = unsyncedSlots(nodes);
    if (unsynced.length) out.push(['warn', `failover slot(s) not yet synchronized to the standby: ${unsynced.join(', ')}`]);
    const plain = primary.slots.filter((s) => !s.failover).map((s) => s.name);
    if (plain.length) out.push(['warn', `slot(s) without failover, lost at a failover: ${plain.join(', ')}`]);
  }
  return out;
}

/** One line per node, for the status screens. */
export function describePgNodes(nodes: PgNodeState[]): string[][] {
  const unsynced = new Set(unsyncedSlots(nodes));
  const primary = nodes.find((n) => n.role === 'primary');
  return nodes.map((n) => {
    const rep = n.role === 'standby' ? primary?.standbys?.find((s) => s.name === `node_${n.id}`) : undefined;
    const lag = n.role === 'standby' ? (rep ? `${rep.state}, ${rep.lagBytes} B behind (${rep.sync})` : 'not streaming') : '-';
    const slots =
      n.role === 'primary'
        ? n.slots.map((s) => `${s.name}${s.failover ? (unsynced.has(s.name) ? ' (not synced yet)' : '') : ' (no failover)'}`).join(', ') || '-'
        : n.role === 'standby'
          ? `${n.slots.filter((s) => s.synced).length} synchronized`
          : (n.error ?? '');
    return [`node ${n.id}`, String(n.port), n.role, lag, slots];
  });
}
