#!/bin/sh
# Prints a new random value for every secret docker-compose.yml requires, as lines of a compose .env file:
#   sh docker/new-secrets.sh > .env      (then: docker compose up)
# Each secret is 64 hex digits (32 random bytes) from /dev/urandom: letters and digits only, as the passwords must be (they go
# unescaped into JAAS and SCRAM configurations, Connect's users file and MongoDB's URL). One secret per
# principal: a container holds only its own. Keep .env out of version control (.gitignore has it).
# test/compose/secrets.unit.test.ts checks that this list is exactly the secrets the compose files require.
set -eu
secret() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
for name in \
  ADMIN_TOKEN AUTH_JWT_SECRET GRAFANA_ADMIN_PASSWORD \
  PG_SUPERUSER_PASSWORD PG_CATALOG_PASSWORD PG_INVENTORY_PASSWORD PG_ORDER_COMMAND_PASSWORD \
  PG_ORDER_QUERY_PASSWORD PG_RELAY_PASSWORD PG_DEBEZIUM_PASSWORD \
  KAFKA_BROKER_PASSWORD KAFKA_OPERATOR_PASSWORD KAFKA_CONNECT_PASSWORD KAFKA_RELAY_PASSWORD \
  KAFKA_CATALOG_PASSWORD KAFKA_INVENTORY_PASSWORD KAFKA_BASKET_PASSWORD KAFKA_ORDER_COMMAND_PASSWORD \
  KAFKA_ORDER_QUERY_PASSWORD \
  CONNECT_OPERATOR_PASSWORD CONNECT_RELAY_PASSWORD \
  MONGO_ROOT_PASSWORD; do
  printf '%s=%s\n' "$name" "$(secret)"
done
