-- The shop's login roles, with their passwords from the postgres container's environment (compose passes
-- QTSHOP_PG_PASSWORD_<ROLE> from the secrets PG_<ROLE>_PASSWORD). Run by the postgres image when it
-- initialises an empty data volume (/docker-entrypoint-initdb.d, after 10-create-databases.sql), as the
-- superuser, before the `migrate` job, whose migrations grant each role what it may do. Safe to run again,
-- e.g. after changing a password, or on a volume initialised before the roles existed:
--   docker compose exec postgres psql -v ON_ERROR_STOP=1 -U postgres -d postgres -f /docker-entrypoint-initdb.d/20-create-roles.sql
-- The roles are PG_ROLES of services/shared/src/infra/pg-roles.ts: each service logs in as its own (PG_USER),
-- the relay as `relay` and Debezium as `debezium`, both REPLICATION (PG_REPLICATION_ROLES: Debezium streams
-- from a slot, the relay drops a lost one); the migrate and register-connectors jobs keep the superuser.
-- Passwords are stored as SCRAM-SHA-256 hashes (PostgreSQL's default password_encryption).

-- Statements that carry a password stay out of pg_stat_statements (no error where it is not loaded).
SET pg_stat_statements.track_utility = off;

\unset password
\getenv password QTSHOP_PG_PASSWORD_CATALOG
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_CATALOG is not set'; END $$;
\endif
SELECT 'CREATE ROLE catalog' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'catalog') \gexec
ALTER ROLE catalog WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password
\getenv password QTSHOP_PG_PASSWORD_INVENTORY
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_INVENTORY is not set'; END $$;
\endif
SELECT 'CREATE ROLE inventory' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'inventory') \gexec
ALTER ROLE inventory WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password
\getenv password QTSHOP_PG_PASSWORD_ORDER_COMMAND
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_ORDER_COMMAND is not set'; END $$;
\endif
SELECT 'CREATE ROLE order_command' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'order_command') \gexec
ALTER ROLE order_command WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password
\getenv password QTSHOP_PG_PASSWORD_ORDER_QUERY
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_ORDER_QUERY is not set'; END $$;
\endif
SELECT 'CREATE ROLE order_query' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'order_query') \gexec
ALTER ROLE order_query WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password
\getenv password QTSHOP_PG_PASSWORD_RELAY
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_RELAY is not set'; END $$;
\endif
SELECT 'CREATE ROLE relay' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay') \gexec
ALTER ROLE relay WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password
\getenv password QTSHOP_PG_PASSWORD_DEBEZIUM
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_PASSWORD_DEBEZIUM is not set'; END $$;
\endif
SELECT 'CREATE ROLE debezium' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'debezium') \gexec
ALTER ROLE debezium WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS PASSWORD :'password';

\unset password

-- Nobody but the superuser works in the `postgres` database (each role connects to its own only; the
-- migrations revoke CONNECT on the shop's databases from PUBLIC the same way).
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
