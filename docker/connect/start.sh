#!/bin/sh
# Entry point of the connect services of docker-compose.yml (quay.io/debezium/connect): writes the users of
# the REST API (HTTP basic auth: the operator's tools and the relay) from the environment, with the JAAS
# configuration that points Kafka's BasicAuthSecurityRestExtension at them, then starts the worker with the
# image's own entry point. The worker reads the JAAS file through -Djava.security.auth.login.config in
# KAFKA_OPTS (REST_JAAS below is that path); the REST passwords are not passed on to the worker.
# Environment: QTSHOP_CONNECT_OPERATOR_PASSWORD, QTSHOP_CONNECT_RELAY_PASSWORD.
set -eu
REST_DIR=/tmp/qtshop-connect
REST_USERS="$REST_DIR/rest-users.properties"
REST_JAAS="$REST_DIR/rest-jaas.conf"

# A password goes unescaped into the users file: letters, digits and . _ ~ - only (docker/new-secrets.sh).
check_password() {
  case "$2" in
    '' | *[!A-Za-z0-9._~-]*)
      echo "connect: $1 must be letters, digits and . _ ~ - only (docker/new-secrets.sh makes such secrets)" >&2
      exit 2
      ;;
  esac
}
check_password CONNECT_OPERATOR_PASSWORD "${QTSHOP_CONNECT_OPERATOR_PASSWORD:-}"
check_password CONNECT_RELAY_PASSWORD "${QTSHOP_CONNECT_RELAY_PASSWORD:-}"

umask 077
mkdir -p "$REST_DIR"
printf 'operator=%s\nrelay=%s\n' "$QTSHOP_CONNECT_OPERATOR_PASSWORD" "$QTSHOP_CONNECT_RELAY_PASSWORD" >"$REST_USERS"
printf 'KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="%s";\n};\n' \
  "$REST_USERS" >"$REST_JAAS"
umask 022
unset QTSHOP_CONNECT_OPERATOR_PASSWORD QTSHOP_CONNECT_RELAY_PASSWORD

[ $# -gt 0 ] || set -- start
exec /docker-entrypoint.sh "$@"
