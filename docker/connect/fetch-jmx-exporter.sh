#!/bin/sh
# One-shot `connect-jmx-exporter` service of docker-compose.yml, run in the official maven image: puts the
# Prometheus JMX exporter Java agent into the jmx-exporter volume, from which the connect service loads it
# (quay.io/debezium/connect does not ship the agent; see the connect service). Maven resolves it from
# Maven Central as it resolves the local stack's jars (the same maven-dependency-plugin as
# stack/maven/pom.xml), and the jar must then have the SHA-256 compose pins. A later `up` finds the jar in
# the volume and resolves nothing.
# Environment: JMX_EXPORTER_VERSION, JMX_EXPORTER_SHA256, JMX_EXPORTER_DIR (the volume's mount point).
set -eu
jar="$JMX_EXPORTER_DIR/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
if [ -f "$jar" ] && echo "$JMX_EXPORTER_SHA256  $jar" | sha256sum --check --status; then
  echo "JMX exporter $JMX_EXPORTER_VERSION already in $JMX_EXPORTER_DIR"
  exit 0
fi
echo "resolving io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION into $JMX_EXPORTER_DIR"
mvn --batch-mode --quiet --strict-checksums -Dstyle.color=never \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION" \
  -DoutputDirectory="$JMX_EXPORTER_DIR"
if ! echo "$JMX_EXPORTER_SHA256  $jar" | sha256sum --check --status; then
  echo "$jar does not have the SHA-256 docker-compose.yml pins ($JMX_EXPORTER_SHA256); removed" >&2
  rm -f "$jar"
  exit 1
fi
chmod 0644 "$jar"
echo "JMX exporter $JMX_EXPORTER_VERSION in $JMX_EXPORTER_DIR"
