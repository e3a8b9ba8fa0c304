-- The order journey's statements in inventory's database, for one order of one line: the consumer applying
-- OrderPlaced (inbox row, the stock decision, the product's stock locked and reserved, ProductQuantityUpdated
-- and OrderStockReserved in the outbox), as the service sends them. See journey-orders.sql for the ids.
\set o random(1, 9000000000000000000)
\set p random(1, :products)
BEGIN;
INSERT INTO processed_events (aggregate_id, event_id, event_type, outcome, version) VALUES (md5('o' || :o)::uuid, md5('e1' || :o)::uuid, 'OrderPlaced', 'applied', 1)
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
INSERT INTO stock_decisions (order_id, version, outcome, reserved) VALUES (md5('o' || :o)::uuid, 1, 'reserved', jsonb_build_array(jsonb_build_object('productId', md5('p' || :p)::uuid, 'quantity', 1)))
  ON CONFLICT (order_id) DO NOTHING RETURNING order_id;
SELECT product_id, quantity FROM product_inventory WHERE product_id IN (md5('p' || :p)::uuid) ORDER BY product_id ASC FOR UPDATE;
UPDATE product_inventory SET quantity = quantity - 1, version = version + 1, updated_at = CURRENT_TIMESTAMP WHERE product_id = md5('p' || :p)::uuid
  RETURNING * \gset i_
INSERT INTO outbox (aggregateid, aggregatetype, id, payload, traceparent, type)
  VALUES (md5('p' || :p)::uuid, 'inventory', md5('e4' || :o)::uuid,
          jsonb_build_object('version', :i_version::int, 'quantity', :i_quantity::int, 'productId', md5('p' || :p)::uuid),
          '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'ProductQuantityUpdated');
INSERT INTO outbox (aggregateid, aggregatetype, id, payload, traceparent, type)
  VALUES (md5('o' || :o)::uuid, 'inventory', md5('e2' || :o)::uuid, jsonb_build_object('orderId', md5('o' || :o)::uuid, 'version', 1),
          '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'OrderStockReserved');
COMMIT;
