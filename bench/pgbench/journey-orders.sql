-- The order journey's statements in order-command's database (orders), for one order of one line, as the
-- service sends them (captured with log_statement = all; bench/README.md): POST /orders (the idempotency
-- key's lookup, the price check, then the transaction appending OrderPlaced with its outbox row), and the
-- consumer applying OrderStockReserved (inbox row, the stream read, OrderConfirmed and its outbox row).
-- Ids are derived from :o (md5 as uuid), so one order's statements name the same rows; products are the
-- seeded md5('p' || n) ids. Run with -M extended, as the pg driver sends parameterised statements.
\set o random(1, 9000000000000000000)
\set p random(1, :products)
SELECT order_id, request_hash FROM idempotency_keys WHERE key = 'c' || :o || '/k' LIMIT 1;
SELECT product_id, price FROM product_prices WHERE product_id IN (md5('p' || :p)::uuid);
BEGIN;
INSERT INTO idempotency_keys (key, order_id, request_hash) VALUES ('c' || :o || '/k', md5('o' || :o)::uuid, md5('h' || :o) || md5('h' || :o))
  ON CONFLICT (key) DO NOTHING RETURNING key;
SAVEPOINT place;
SELECT version, type, data, occurred_at FROM order_events WHERE order_id = md5('o' || :o)::uuid ORDER BY version ASC;
INSERT INTO order_events (data, order_id, type, version)
  VALUES (jsonb_build_object('items', jsonb_build_array(jsonb_build_object('price', 1500, 'quantity', 1, 'productId', md5('p' || :p)::uuid)),
          'total', 1500, 'orderId', md5('o' || :o)::uuid, 'basketId', 'c' || :o, 'customerId', 'c' || :o), md5('o' || :o)::uuid, 'OrderPlaced', 1);
INSERT INTO outbox (aggregateid, aggregatetype, id, payload, traceparent, type)
  VALUES (md5('o' || :o)::uuid, 'order', md5('e1' || :o)::uuid,
          jsonb_build_object('items', jsonb_build_array(jsonb_build_object('price', 1500, 'quantity', 1, 'productId', md5('p' || :p)::uuid)),
          'total', 1500, 'orderId', md5('o' || :o)::uuid, 'version', 1, 'basketId', 'c' || :o, 'customerId', 'c' || :o),
          '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'OrderPlaced');
RELEASE SAVEPOINT place;
COMMIT;
BEGIN;
INSERT INTO processed_events (aggregate_id, event_id, event_type, outcome, version) VALUES (md5('o' || :o)::uuid, md5('e2' || :o)::uuid, 'OrderStockReserved', 'applied', 1)
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
SAVEPOINT confirm;
SELECT version, type, data, occurred_at FROM order_events WHERE order_id = md5('o' || :o)::uuid ORDER BY version ASC;
INSERT INTO order_events (data, order_id, type, version) VALUES (jsonb_build_object('orderId', md5('o' || :o)::uuid), md5('o' || :o)::uuid, 'OrderConfirmed', 2);
INSERT INTO outbox (aggregateid, aggregatetype, id, payload, traceparent, type)
  VALUES (md5('o' || :o)::uuid, 'order', md5('e3' || :o)::uuid, jsonb_build_object('orderId', md5('o' || :o)::uuid, 'version', 2),
          '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'OrderConfirmed');
RELEASE SAVEPOINT confirm;
COMMIT;
