#!/bin/sh
# Healthcheck of the connect services of docker-compose.yml: exits 0 when the worker's REST API, asked as
# `operator` (HTTP basic auth), lists the Debezium outbox router among its plugins (as `stack up` checks).
# The credentials reach curl on its standard input, not on its command line.
set -eu
printf 'user = "operator:%s"\n' "${QTSHOP_CONNECT_OPERATOR_PASSWORD:?}" |
  curl -fsS -K - 'http://localhost:8083/connector-plugins?connectorsOnly=false' |
  grep -q io.debezium.transforms.outbox.EventRouter
