#!/bin/sh
# Entry point of the connect services of docker-compose.yml (quay.io/debezium/connect): writes the users of
# the REST API (HTTP basic auth: the operator's tools and the relay) from the environment, with the JAAS
# configuration that points Kafka's BasicAuthSecurityRestExtension at them, then starts the worker with the
# image's own entry point. The worker reads the JAAS file through -Djava.security.auth.login.config in
# KAFKA_OPTS (REST_JAAS below is that path); the REST passwords are not passed on to the worker.
# The Prometheus JMX exporter agent (QTSHOP_JMX_AGENT, `-javaagent:<jar>=<port>:<config>`) joins KAFKA_OPTS
# only when its jar is there (the connect-jmx-exporter job of the `monitoring` profile puts it into the
# jmx-exporter volume): without it the worker starts all the same, without JMX metrics, rather than not at
# all (a missing -javaagent jar stops the JVM).
# Environment: QTSHOP_CONNECT_OPERATOR_PASSWORD, QTSHOP_CONNECT_RELAY_PASSWORD, QTSHOP_JMX_AGENT (optional).
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

if [ -n "${QTSHOP_JMX_AGENT:-}" ]; then
  agent_jar="${QTSHOP_JMX_AGENT#-javaagent:}"
  agent_jar="${agent_jar%%=*}"
  if [ -f "$agent_jar" ]; then
    export KAFKA_OPTS="$QTSHOP_JMX_AGENT ${KAFKA_OPTS:-}"
    echo "connect: JMX exporter agent $agent_jar loaded"
  else
    echo "connect: no JMX exporter agent at $agent_jar (run the connect-jmx-exporter job: docker compose --profile monitoring up connect-jmx-exporter, then restart connect); starting without JMX metrics" >&2
  fi
fi

[ $# -gt 0 ] || set -- start
exec /docker-entrypoint.sh "$@"
