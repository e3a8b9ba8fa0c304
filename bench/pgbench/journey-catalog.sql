-- The order journey's statements in catalog's database, for one order of one line: the consumer applying
-- the reserved line's ProductQuantityUpdated (inbox row, the product's stock version locked, its quantity
-- set), as the service sends them. See journey-orders.sql for the ids.
\set o random(1, 9000000000000000000)
\set p random(1, :products)
BEGIN;
INSERT INTO processed_events (aggregate_id, event_id, event_type, outcome, version) VALUES (md5('p' || :p)::uuid, md5('e4' || :o)::uuid, 'ProductQuantityUpdated', 'applied', 2)
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
SELECT stock_version FROM products WHERE id = md5('p' || :p)::uuid LIMIT 1 FOR UPDATE;
UPDATE products SET quantity = quantity - 1, stock_version = stock_version + 1, updated_at = CURRENT_TIMESTAMP WHERE id = md5('p' || :p)::uuid;
COMMIT;
