import type { Knex } from 'knex';

export const name = '009_stock_releases';

// Giving back the stock of a cancelled (or late-rejected) order needs what was reserved for it: the stock
// decision now keeps its outcome and, when reserved, the quantity taken of each product. version 2 is the
// decision changed once more: released (a reservation given back, or nothing to give back), or void (the
// order was cancelled or rejected before inventory decided; its OrderPlaced, if it comes later, is stale
// and reserves nothing). Decisions taken before this migration have no outcome: they cannot be released
// (docs/concepts.md "Events and versions" says so).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('stock_decisions', (t) => {
    t.text('outcome');
    t.jsonb('reserved');
    t.timestamp('released_at', { useTz: true });
  });
  await knex.raw("alter table stock_decisions add constraint stock_decisions_outcome check (outcome in ('reserved', 'rejected', 'void'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('stock_decisions', (t) => {
    t.dropColumn('released_at');
    t.dropColumn('reserved');
    t.dropColumn('outcome');
  });
}
