import type { Knex } from 'knex';

export const name = '007_pending_orders';

// The orders waiting for their stock decision (OrderPlaced appended, no OrderConfirmed/OrderRejected yet):
// order-command's orders_pending gauges and npm run status read them on every scrape or refresh. On the
// stream itself that question is an anti-join over every order ever placed (the stream is never pruned):
// 550 ms and 800 MB read per scrape at a million orders. This table holds only the orders in flight, so
// the same answer is a scan of a few pages.
//
// A trigger on order_events keeps it, in the transaction that appends: it adds no statement (and no round
// trip) to the journey's transactions, so bench/pgbench/journey-orders.sql still replays what the service
// sends and the ceiling includes its cost; and every writer of the stream (the use cases, tests, a repair
// by hand) keeps it right. The event types are the ones of the order aggregate (domain/aggregate.ts).
// No index besides the primary key: the table stays small, and every index is one more write per order.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pending_orders', (t) => {
    t.uuid('order_id').primary();
    t.timestamp('placed_at', { useTz: true }).notNullable();
  });
  await knex.raw(`
    create function order_events_track_pending() returns trigger language plpgsql as $$
    begin
      if new.type = 'OrderPlaced' then
        insert into pending_orders (order_id, placed_at) values (new.order_id, new.occurred_at) on conflict do nothing;
      elsif new.type in ('OrderConfirmed', 'OrderRejected') then
        delete from pending_orders where order_id = new.order_id;
      end if;
      return null;
    end $$`);
  // Created before the backfill: the trigger's lock on order_events holds concurrent appends until this
  // migration commits, and the backfill (a statement after it) sees every append committed before.
  await knex.raw('create trigger order_events_track_pending after insert on order_events for each row execute function order_events_track_pending()');
  await knex.raw(
    `insert into pending_orders (order_id, placed_at)
     select p.order_id, p.occurred_at from order_events p
     where p.type = 'OrderPlaced'
       and not exists (select 1 from order_events d where d.order_id = p.order_id and d.type in ('OrderConfirmed', 'OrderRejected'))
     on conflict do nothing`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger order_events_track_pending on order_events');
  await knex.raw('drop function order_events_track_pending()');
  await knex.schema.dropTable('pending_orders');
}
