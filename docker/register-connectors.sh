#!/bin/sh
# One-shot `register-connectors` service of docker-compose.yml: makes Kafka Connect match RELAY_MODE, with
# `npm run connect` compiled into the image (dist/connect.js, see scripts/build.ts).
#   debezium (default)  register every connect-config/*.json (PUT /connectors/<name>/config) and wait
#                       until each connector runs with an active replication slot
#   polling             the relay publishes the outboxes itself: delete any registered outbox connector
#                       (and drop its replication slot), so that each outbox has one publisher
# Configuration is the same environment as the local stack: CONNECT_URL, PG_HOST, PG_PORT, PG_USER, PG_PASSWORD.
set -eu
cd "$(dirname "$0")/.."
mode="${RELAY_MODE:-debezium}"
case "$mode" in
  debezium)
    echo "RELAY_MODE=debezium: registering the connectors in connect-config/ with ${CONNECT_URL:-Kafka Connect}"
    exec node dist/connect.js register
    ;;
  polling)
    echo "RELAY_MODE=polling: the relay publishes the outboxes; deleting any registered outbox connector"
    exec node dist/connect.js delete
    ;;
  *)
    echo "RELAY_MODE must be debezium or polling (got: $mode)" >&2
    exit 2
    ;;
esac
