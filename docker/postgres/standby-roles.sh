#!/bin/sh
# What docker-compose.ha.yml's standby and pg-proxy need on the primary, as the local stack's
# stack/components/pg-standby.ts gives them: the role `replicator` (REPLICATION, password
# QTSHOP_PG_REPLICATION_PASSWORD from the secret PG_REPLICATION_PASSWORD), which the standby copies and
# streams the WAL with and synchronizes the failover slots through the `postgres` database; the role
# `qtshop_check` (no password, no rights), which pg-proxy's check logs in as (docker/haproxy/pg-primary.cfg);
# and their pg_hba.conf lines, first (the first matching line wins): qtshop_check without a password and
# replicator's replication connections, both from the compose network only (samenet).
# Run by the postgres image when it initialises an empty data volume (/docker-entrypoint-initdb.d, after the
# databases and the shop's roles), as the superuser; a standby gets all of it with its copy. Safe to run
# again, e.g. after changing the password, or on a pg-data volume initialised without docker-compose.ha.yml:
#   docker compose -f docker-compose.yml -f docker-compose.ha.yml exec postgres sh /docker-entrypoint-initdb.d/30-standby-roles.sh
# No `exit` and no shell options but -e: the image sources this file when it is not executable.
set -e

psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --no-password --dbname postgres <<'SQL'
-- The password stays out of pg_stat_statements (no error where it is not loaded).
SET pg_stat_statements.track_utility = off;
\getenv password QTSHOP_PG_REPLICATION_PASSWORD
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'QTSHOP_PG_REPLICATION_PASSWORD is not set'; END $$;
\endif
SELECT 'CREATE ROLE replicator' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') \gexec
ALTER ROLE replicator WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS PASSWORD :'password';
\unset password
SELECT 'CREATE ROLE qtshop_check' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qtshop_check') \gexec
ALTER ROLE qtshop_check WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD NULL;
-- create-roles.sql revokes CONNECT on the postgres database from PUBLIC.
GRANT CONNECT ON DATABASE postgres TO replicator, qtshop_check;
SQL

hba="${PGDATA:?}/pg_hba.conf"
mark='# qtshop: standby and proxy check'
if ! grep -qF "$mark" "$hba"; then
  lines=$(printf '%s\n' \
    "host postgres qtshop_check samenet trust  $mark" \
    "host replication replicator samenet scram-sha-256  $mark")
  # Rewritten in place: the file keeps its owner and mode whoever runs this.
  rest=$(cat "$hba")
  printf '%s\n%s\n' "$lines" "$rest" >"$hba"
fi
psql -X -q -t --username "${POSTGRES_USER:-postgres}" --no-password --dbname postgres -c 'select pg_reload_conf()' >/dev/null
