import type { Knex } from 'knex';

export const name = '009_pending_orders_cancelled';

// A cancelled order waits for no stock decision any more: OrderCancelled leaves pending_orders like
// OrderConfirmed and OrderRejected (the trigger of 007_pending_orders, replaced). The decision-deadline
// sweep reads pending_orders by age, hence the index on placed_at.
const trackPending = (decided: string[]) => `
  create or replace function order_events_track_pending() returns trigger language plpgsql as $$
  begin
    if new.type = 'OrderPlaced' then
      insert into pending_orders (order_id, placed_at) values (new.order_id, new.occurred_at) on conflict do nothing;
    elsif new.type in (${decided.map((t) => `'${t}'`).join(', ')}) then
      delete from pending_orders where order_id = new.order_id;
    end if;
    return null;
  end $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(trackPending(['OrderConfirmed', 'OrderRejected', 'OrderCancelled']));
  await knex.raw('create index pending_orders_placed_at_idx on pending_orders (placed_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index pending_orders_placed_at_idx');
  await knex.raw(trackPending(['OrderConfirmed', 'OrderRejected']));
}
