// The relay's statements over the outbox table, run on its lock connection with pg parameters: selecting
// the rows due (every unsent row, or for repair the unsent rows older than a bound), marking rows sent,
// quarantining rows.
import { OUTBOX_TABLE, createdAtHeaderSql } from '@qtshop/shared/outbox';
import type { UnsentRow } from './batch';

// Plain `for update`, not `skip locked`: only the lock holder reads here, and skipping a row locked by
// someone else (an operator's UPDATE) would publish later rows first. The window sum returns only about
// `$2` bytes of the `$1` rows picked (the first row always), so a backlog of large rows is fetched a
// send's worth at a time; `picked` tells whether more were waiting.
const selectUnsent = (repair: boolean) => `with picked as (
    select id, position, aggregatetype, aggregateid, type, payload, traceparent, ${createdAtHeaderSql('created_at')} as created_at_header,
      octet_length(payload::text) as bytes
    from ${OUTBOX_TABLE}
    where sent_at is null and quarantined_at is null${repair ? ' and created_at < now() - make_interval(secs => $3::double precision)' : ''}
    order by position limit $1 for update)
  select id, position, aggregatetype, aggregateid, type, payload, traceparent, created_at_header, count(*) over () as picked
  from (select *, sum(bytes) over (order by position) - bytes as before from picked) p
  where before < $2 order by position`;

/** Every unsent row ($1: batch size, $2: byte bound). */
export const SELECT_UNSENT = selectUnsent(false);
/** The unsent rows committed more than `$3` seconds ago ($1: batch size, $2: byte bound). */
export const SELECT_UNSENT_OLDER = selectUnsent(true);

export const MARK_SENT = `update ${OUTBOX_TABLE} set sent_at = now() where id = any($1::uuid[])`;
export const QUARANTINE = `update ${OUTBOX_TABLE} o set quarantined_at = now(), quarantine_error = q.error
  from unnest($1::uuid[], $2::text[]) as q(id, error) where o.id = q.id`;

/** A row as the selects return it: `picked` counts the rows locked, of which the bound left out some. */
export type FetchedRow = UnsentRow & { picked: string };
