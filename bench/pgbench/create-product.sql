-- The transaction POST /products runs (services/catalog/src/domain/products.ts createProduct), for pgbench:
-- the product insert (RETURNING *, as store.insertProduct) and its ProductCreated outbox row, in one
-- transaction. Run with -M extended, as the pg driver sends parameterised statements; the outbox writer
-- builds the payload in Node, here jsonb_build_object builds the same document.
\set price random(0, 1000000)
\set n random(1, 1000000000)
BEGIN;
INSERT INTO products (id, name, description, type, brand, picture_url, price)
  VALUES (gen_random_uuid(), 'Kettle ' || :n, 'Stainless steel, 1.7 l', 'kitchen', 'Acme', 'https://img.example/kettle.png', :price)
  RETURNING * \gset p_
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, traceparent)
  VALUES (gen_random_uuid(), 'product', :p_id, 'ProductCreated',
    jsonb_build_object('productId', :p_id::text, 'name', :p_name::text, 'description', :p_description::text, 'type', :p_type::text,
                       'brand', :p_brand::text, 'pictureUrl', :p_picture_url::text, 'price', :p_price::bigint),
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
COMMIT;
