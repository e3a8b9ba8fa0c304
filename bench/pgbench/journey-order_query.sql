-- The order journey's statements in order-query's database, for one order of one line: the consumer
-- projecting OrderPlaced (a new row) and OrderConfirmed (its status), as the service sends them. See
-- journey-orders.sql for the ids.
\set o random(1, 9000000000000000000)
\set p random(1, :products)
BEGIN;
INSERT INTO processed_events (aggregate_id, event_id, event_type, outcome, version) VALUES (md5('o' || :o)::uuid, md5('e1' || :o)::uuid, 'OrderPlaced', 'applied', 1)
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
SELECT version, placed_at FROM orders WHERE order_id = md5('o' || :o)::uuid LIMIT 1 FOR UPDATE;
INSERT INTO orders (basket_id, customer_id, items, order_id, placed_at, status, total, version)
  VALUES ('c' || :o, 'c' || :o, jsonb_build_array(jsonb_build_object('price', 1500, 'quantity', 1, 'productId', md5('p' || :p)::uuid)),
          md5('o' || :o)::uuid, CURRENT_TIMESTAMP, 'Pending', 1500, 1);
COMMIT;
BEGIN;
INSERT INTO processed_events (aggregate_id, event_id, event_type, outcome, version) VALUES (md5('o' || :o)::uuid, md5('e3' || :o)::uuid, 'OrderConfirmed', 'applied', 2)
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
SELECT version, placed_at FROM orders WHERE order_id = md5('o' || :o)::uuid LIMIT 1 FOR UPDATE;
UPDATE orders SET status = 'Confirmed', reason = NULL, version = 2, updated_at = CURRENT_TIMESTAMP WHERE order_id = md5('o' || :o)::uuid;
COMMIT;
