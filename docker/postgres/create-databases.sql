-- Runs once, when the postgres container initialises an empty data volume (/docker-entrypoint-initdb.d).
-- One database per service that owns one (DATABASES in services/shared/src/infra/addresses.ts).
-- Tables come from `npm run migrate` (the `migrate` service of docker-compose.yml).
CREATE DATABASE catalog;
CREATE DATABASE inventory;
CREATE DATABASE orders;
CREATE DATABASE order_query;
