-- The relay bench's pgbench writer: one ProductUpdated outbox row per transaction, as the shop's outbox
-- writer inserts it (services/shared/src/outbox/writer.ts: the id, the aggregate, the payload built
-- in Node, the traceparent). The bench database's trigger routes the row to the bench topic. :pad makes
-- the payload about --payload bytes. The time each record waited is read from its createdAt header (the
-- row's created_at, the transaction's start) by the bench's consumer.
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, traceparent)
  SELECT gen_random_uuid(), 'product', p::text, 'ProductUpdated',
    jsonb_build_object('productId', p, 'name', 'Bench kettle', 'description', :pad::text, 'type', 'bench', 'brand', 'QT-Shop',
                       'pictureUrl', 'https://img.example/bench.png', 'price', 2599, 'version', 1),
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  FROM gen_random_uuid() AS p;
