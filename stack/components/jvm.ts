// What the JVM members (Kafka brokers, Connect workers) share: the java command line, a properties
// file writer and the log4j2 configuration they log with.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { StackConfig } from '../config';

export function javaArgs(cfg: StackConfig, heap: string, lib: string, main: string, extra: string[] = []): string[] {
  return [
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${resolve(cfg.paths.conf, 'log4j2.properties')}`,
    '-cp',
    `${lib}/*`,
    main,
    ...extra,
  ];
}

export function writeProps(path: string, props: Record<string, string | number>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

export function writeLog4j(cfg: StackConfig): void {
  const path = resolve(cfg.paths.conf, 'log4j2.properties');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    [
      'status = warn',
      'appender.console.type = Console',
      'appender.console.name = STDOUT',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.stdout.ref = STDOUT',
      'logger.kafka.name = kafka',
      'logger.kafka.level = WARN',
      'logger.kafkaorg.name = org.apache.kafka',
      'logger.kafkaorg.level = WARN',
      // Every request the brokers' ACLs refuse, with its principal, operation and resource (allowed ones are DEBUG).
      'logger.authorizer.name = kafka.authorizer.logger',
      'logger.authorizer.level = INFO',
      'logger.connect.name = org.apache.kafka.connect.runtime.rest',
      'logger.connect.level = INFO',
      'logger.debezium.name = io.debezium',
      'logger.debezium.level = INFO',
      '',
    ].join('\n'),
  );
}
