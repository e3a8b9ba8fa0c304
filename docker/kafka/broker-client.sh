# Sourced by docker/kafka/init.sh and docker/kafka/healthcheck.sh (in the apache/kafka image): writes the
# client properties with which Kafka's tools log in as the brokers' own principal `broker` (SASL/PLAIN on
# the brokers' internal listener; a super user, as in the local stack) and sets COMMAND_CONFIG to their path.
# Needs QTSHOP_BROKER_PASSWORD (compose: KAFKA_BROKER_PASSWORD). The file is readable by its owner only.
: "${QTSHOP_BROKER_PASSWORD:?the password of the brokers principal broker (compose: KAFKA_BROKER_PASSWORD)}"
COMMAND_CONFIG="${TMPDIR:-/tmp}/qtshop-broker-client.properties"
(
  umask 077
  printf '%s\n' \
    'security.protocol=SASL_PLAINTEXT' \
    'sasl.mechanism=PLAIN' \
    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"$QTSHOP_BROKER_PASSWORD\";" \
    >"$COMMAND_CONFIG.tmp"
  mv -f "$COMMAND_CONFIG.tmp" "$COMMAND_CONFIG"
)
export COMMAND_CONFIG
