#!/bin/sh
# Healthcheck of the kafka services of docker-compose.yml: exits 0 when the broker at BOOTSTRAP (its own
# internal listener) answers a metadata request of the brokers' principal over SASL, non-zero otherwise.
set -eu
. "$(dirname "$0")/broker-client.sh"
exec "${KAFKA_BIN:-/opt/kafka/bin}/kafka-topics.sh" --bootstrap-server "${BOOTSTRAP:?}" --command-config "$COMMAND_CONFIG" --list >/dev/null
