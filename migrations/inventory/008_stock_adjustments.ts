import type { Knex } from 'knex';

export const name = '008_stock_adjustments';

// The ledger of manual stock changes (docs/walkthroughs.md "6. Restocking"): one row per change an operator makes, in the
// transaction of the change, so that a stock item's quantity can be accounted for: its rows in version
// order, and between two of them the reservations (ProductQuantityUpdated of the versions in between).
// kind: 'adjustment' (POST /inventory/:productId/adjustments, relative: delta and the operator's reason) or
// 'set' (PUT /inventory/:productId, absolute: delta is the quantity set minus the one it replaced).
// version: the stock item's version after the change, the one its ProductQuantityUpdated carries.
// idempotency_key: the client's Idempotency-Key, unique per product; kept as long as the row (for ever: a
// row per manual change is small and few), so a retried adjustment is never applied twice however late.
// No foreign key to product_inventory: rows are written under that row's lock anyway, stock items are never
// deleted, and a key would make `truncate product_inventory` (the benchmarks' reset) fail.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stock_adjustments', (t) => {
    t.uuid('id').primary();
    t.uuid('product_id').notNullable();
    t.text('kind').notNullable();
    t.integer('delta').notNullable();
    t.text('reason').notNullable();
    t.integer('quantity_after').notNullable();
    t.integer('version').notNullable();
    t.text('idempotency_key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `alter table stock_adjustments
       add constraint stock_adjustments_kind check (kind in ('adjustment', 'set')),
       add constraint stock_adjustments_delta_nonzero check (kind = 'set' or delta <> 0),
       add constraint stock_adjustments_reason_length check (char_length(reason) between 1 and 200),
       add constraint stock_adjustments_quantity_after_nonnegative check (quantity_after >= 0)`,
  );
  await knex.raw('create unique index stock_adjustments_product_version on stock_adjustments (product_id, version)');
  await knex.raw('create unique index stock_adjustments_idempotency_key on stock_adjustments (product_id, idempotency_key) where idempotency_key is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stock_adjustments');
}
