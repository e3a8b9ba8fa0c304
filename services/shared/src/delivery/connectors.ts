// Managing the outbox connectors: register (idempotent) and wait until Debezium streams, or remove
// a connector together with its replication slot (an abandoned slot retains WAL forever).
import type { Knex } from 'knex';
import pg from 'pg';
import type { ConnectClient } from './connect';
import type { ConnectorConfig } from './connector-files';
import { GiveUp, waitUntil } from '../platform/wait';

class ConnectorFailed extends GiveUp {}

const slotOf = (config: ConnectorConfig) => config['slot.name'];

/**
 * Makes an existing logical slot a failover slot (PostgreSQL 17: ALTER_REPLICATION_SLOT, a command of the
 * replication protocol, so over a replication connection of a role with REPLICATION). The slot must not be
 * in use: its connector is stopped meanwhile (ConnectorSupervisor).
 */
export async function enableSlotFailover(connection: pg.ClientConfig, slot: string): Promise<void> {
  const c = new pg.Client({ ...connection, replication: 'database' } as pg.ClientConfig);
  await c.connect();
  try {
    // A replication command takes no bind parameters: the slot name is the committed file's, quoted as an identifier.
    await c.query(`ALTER_REPLICATION_SLOT ${pg.escapeIdentifier(slot)} ( FAILOVER true )`);
  } finally {
    await c.end();
  }
}

/** The connector is registered but its replication slot does not exist. */
export async function slotGone(connect: ConnectClient, admin: Knex, config: ConnectorConfig): Promise<boolean> {
  const slot = slotOf(config);
  if (
    !slot ||
    !(await connect.status(config.name).then(
      () => true,
      () => false,
    ))
  )
    return false;
  return !(await admin('pg_replication_slots').where({ slot_name: slot }).first('slot_name'));
}

/** True when the replication slot exists and a connector is streaming from it. */
export async function slotActive(admin: Knex, slot: string): Promise<boolean> {
  const row = await admin('pg_replication_slots').where({ slot_name: slot }).first<{ active: boolean } | undefined>('active');
  return row?.active === true;
}

/**
 * PUT /connectors/<name>/config, then wait until the connector and its task run and its replication slot
 * is active: from then on every committed outbox row is streamed (snapshot.mode=no_data skips older rows).
 */
export async function registerConnector(connect: ConnectClient, admin: Knex, config: ConnectorConfig, timeoutMs = 60_000): Promise<void> {
  if (await slotGone(connect, admin, config)) {
    // Its offsets name an LSN of a slot that is no more (a failover without failover slots, a slot dropped by
    // hand): Debezium refuses to start from them. Re-created, it streams from now on; repair covers the gap.
    await removeConnector(connect, admin, config);
  }
  await connect.put(config.name, config);
  let restarted = false;
  try {
    await waitUntil(
      async () => {
        // A task that failed before (e.g. the outbox table did not exist yet) is restarted once.
        const status = await connect.status(config.name).catch(() => undefined);
        const failed = status?.tasks.find((t) => t.state === 'FAILED');
        if (failed && restarted) throw new ConnectorFailed(`connector ${config.name} task failed: ${failed.trace?.split('\n')[0] ?? 'no trace'}`);
        if (failed) {
          restarted = true;
          await connect.restart(config.name);
          return false;
        }
        return (await connect.isRunning(config.name)) && (await slotActive(admin, slotOf(config) ?? ''));
      },
      {
        timeoutMs,
        what: `connector ${config.name} to run with an active replication slot ${slotOf(config)}`,
      },
    );
  } catch (err) {
    if (err instanceof ConnectorFailed) throw err;
    // Say why when a task failed (its trace's first line), rather than only that we timed out.
    const failed = await connect
      .status(config.name)
      .then((s) => s.tasks.find((t) => t.state === 'FAILED')?.trace?.split('\n')[0])
      .catch(() => undefined);
    if (failed) throw new Error(`connector ${config.name} task failed: ${failed}`);
    throw err;
  }
}

/**
 * Removes the connector so that it can later be registered afresh: stop it, delete its stored offsets
 * (they name an LSN of the slot about to be dropped; a new slot could not serve it), delete it, then drop
 * its replication slot once released (an abandoned slot retains WAL forever).
 */
export async function removeConnector(connect: ConnectClient, admin: Knex, config: ConnectorConfig, timeoutMs = 60_000): Promise<void> {
  if ((await connect.list()).includes(config.name)) {
    await connect.stop(config.name);
    await waitUntil(async () => (await connect.status(config.name)).connector.state === 'STOPPED', { timeoutMs, what: `connector ${config.name} to stop` });
    await connect.resetOffsets(config.name);
    await connect.delete(config.name);
  }
  const slot = slotOf(config);
  if (!slot) return;
  await waitUntil(
    async () => {
      const row = await admin('pg_replication_slots').where({ slot_name: slot }).first<{ active: boolean } | undefined>('active');
      if (!row) return true;
      if (row.active) return false;
      await admin.raw('select pg_drop_replication_slot(?)', [slot]);
      return true;
    },
    { timeoutMs, what: `replication slot ${slot} to be released and dropped` },
  );
}
