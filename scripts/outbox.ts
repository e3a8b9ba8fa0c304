// npm run outbox -- quarantined [db...] | retry <event id> [db...] | retry --all [db...]
// quarantined: the outbox rows the relay could not publish, with why; retry: release one after a fix (the
// active relay publishes it on its next pass, in either mode); retry --all: release every one, after a fix
// that cured them all (a topic created, Kafka's message.max.bytes raised).
import { createLogger, isUuid, runAsScript } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { loadRelayConfig } from '../services/relay/src/config';

const USAGE = `usage: npm run outbox -- quarantined [db...]     list quarantined outbox rows (default: every outbox database)
       npm run outbox -- retry <event id> [db...]  release a quarantined row; the relay publishes it on its next pass
       npm run outbox -- retry --all [db...]       release every quarantined row (default: every outbox database)
`;
const log = createLogger('outbox-cli');

async function main([cmd, ...args]: string[]): Promise<number> {
  const infra = loadInfra();
  const id = cmd === 'retry' ? args.shift() : undefined;
  const all = id === '--all';
  if ((cmd !== 'quarantined' && cmd !== 'retry') || (cmd === 'retry' && !all && !isUuid(id))) {
    process.stderr.write(`${cmd === 'retry' ? 'retry needs the event id (a UUID) of a quarantined row, or --all\n' : ''}${USAGE}`);
    return 2;
  }
  const databases = args.length ? args : loadRelayConfig().OUTBOX_DATABASES;
  let found = 0;
  for (const database of databases) {
    const db = createDb(infra, database, { max: 1 });
    try {
      if (cmd === 'quarantined') {
        const rows = await db(OUTBOX_TABLE)
          .whereNotNull('quarantined_at')
          .orderBy('position')
          .select(
            'id',
            'position',
            'aggregatetype',
            'aggregateid',
            'type',
            'created_at',
            'quarantined_at',
            'quarantine_error',
            db.raw('octet_length(payload::text) as payload_bytes'),
          );
        for (const r of rows) process.stdout.write(`${JSON.stringify({ database, ...r })}\n`);
        found += rows.length;
      } else if (all) {
        // One statement per database: no list read first that could go stale, and a database's rows are
        // released together or not at all.
        const n = await db(OUTBOX_TABLE).whereNotNull('quarantined_at').update({ quarantined_at: null, quarantine_error: null });
        log.info({ database, released: n }, `${n} row(s) released from quarantine; the relay publishes them on its next pass`);
        found += n;
      } else {
        const n = await db(OUTBOX_TABLE).where({ id }).whereNotNull('quarantined_at').update({ quarantined_at: null, quarantine_error: null });
        if (n > 0) log.info({ database, eventId: id }, 'released from quarantine; the relay publishes it on its next pass');
        found += n;
      }
    } finally {
      await db.destroy();
    }
  }
  if (cmd === 'quarantined') process.stderr.write(`${found} quarantined outbox row(s) in ${databases.join(', ')}\n`);
  else if (!all && found === 0) {
    // A row named and not in quarantine is a mistake to report; --all finding none has nothing to do.
    process.stderr.write(`no quarantined row ${id} in ${databases.join(', ')}\n`);
    return 1;
  }
  return 0;
}

runAsScript(import.meta.url, 'outbox', main, { report: (err) => log.error({ err }, 'outbox command failed') });
