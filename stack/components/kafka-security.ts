// The local stack's Kafka security (KAFKA_SASL_MECHANISM other than none): SASL on every listener, the
// StandardAuthorizer, the shop's principals with their SCRAM credentials, and the ACLs of
// tooling/kafka-access.ts.
//
// Brokers and controllers authenticate each other with SASL/PLAIN as `broker` (a static user of the
// listeners' JAAS configuration: SCRAM credentials live in the metadata log, which a controller cannot read
// before it authenticates anyone). Clients use SCRAM. The principals' credentials are added when the storage
// is formatted (kafka-storage format --add-scram); on a stack formatted before, the ones that cannot log in
// are created with Kafka's ConfigCommand as `broker` (kafkajs has no call that alters SCRAM credentials).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { TOPICS } from '@qtshop/shared/events';
import { createKafka, devPassword, ensureTopics, KAFKA_PRINCIPALS, type KafkaSasl } from '@qtshop/shared/infra';
import { applyKafkaGrants, SUPER_USERS } from '@qtshop/shared/tooling';
import type { StackConfig } from '../config';
import { javaArgs, writeProps } from './jvm';

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
const BROKER_PRINCIPAL = 'broker';
const PLAIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';

/** The SASL mechanism clients of this stack use, or undefined when it runs without authentication. */
const mechanismOf = (cfg: StackConfig): KafkaSasl['mechanism'] | undefined => cfg.infra.kafka.sasl?.mechanism;

/** A JAAS login module line as Kafka's sasl.jaas.config takes it. */
export const jaasConfig = (module: string, options: Record<string, string>) =>
  `${module} required ${Object.entries(options)
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ')};`;

/** The properties a Kafka client (a Connect worker, a Kafka tool) needs to log in as `username`, under `prefix`. */
export function clientSecurityProps(cfg: StackConfig, username: string, password: string, prefix = ''): Record<string, string> {
  const mechanism = mechanismOf(cfg);
  if (!mechanism) return {};
  return {
    [`${prefix}security.protocol`]: 'SASL_PLAINTEXT',
    [`${prefix}sasl.mechanism`]: mechanism.toUpperCase(),
    [`${prefix}sasl.jaas.config`]: jaasConfig(SCRAM_MODULE, { username, password }),
  };
}

/** The listeners of a broker, with SASL and the authorizer when the stack authenticates. */
export function securityProps(cfg: StackConfig, port: number, controllerPort: number): Record<string, string> {
  if (!mechanismOf(cfg)) {
    return {
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    };
  }
  const password = cfg.kafkaBrokerPassword;
  const plain = jaasConfig(PLAIN_MODULE, { username: BROKER_PRINCIPAL, password, [`user_${BROKER_PRINCIPAL}`]: password });
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'sasl.mechanism.inter.broker.protocol': 'PLAIN',
    'sasl.mechanism.controller.protocol': 'PLAIN',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms': [...SCRAM_MECHANISMS, 'PLAIN'].join(','),
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': plain,
    ...Object.fromEntries(SCRAM_MECHANISMS.map((m) => [`listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config`, `${SCRAM_MODULE} required;`])),
    'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.controller.plain.sasl.jaas.config': plain,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': SUPER_USERS.map((u) => `User:${u}`).join(';'),
  };
}

/** The SCRAM credential of a principal as kafka-storage's --add-scram and ConfigCommand's --add-config take it. */
const scramCredential = (mechanism: string, password: string, name?: string) => `${mechanism}=[${name ? `name=${name},` : ''}password=${password}]`;

/** kafka-storage format's arguments that add every principal's SCRAM credentials (none without authentication). */
export function scramFormatArgs(cfg: StackConfig): string[] {
  const mechanism = mechanismOf(cfg);
  if (!mechanism) return [];
  return KAFKA_PRINCIPALS.flatMap((p) => ['--add-scram', scramCredential(mechanism.toUpperCase(), devPassword(p), p)]);
}

/** The stack's own Kafka client settings: the brokers' principal over SASL/PLAIN (kafkajs), when it authenticates. */
export function brokerSasl(cfg: StackConfig): { sasl?: { mechanism: 'plain'; username: string; password: string } } {
  return mechanismOf(cfg) ? { sasl: { mechanism: 'plain', username: BROKER_PRINCIPAL, password: cfg.kafkaBrokerPassword } } : {};
}

/** True when `username` logs in to the broker at `port` with its development password. */
async function canLogIn(cfg: StackConfig, port: number, username: string, mechanism: KafkaSasl['mechanism']): Promise<boolean> {
  const admin = createKafka(
    { brokers: [`127.0.0.1:${port}`], requestTimeoutMs: cfg.infra.kafka.requestTimeoutMs, sasl: { mechanism, username, password: devPassword(username) } },
    'qtshop-stack',
    undefined,
    { retry: { retries: 0 } },
  ).admin();
  try {
    await admin.connect();
    return true;
  } catch (err) {
    if (err instanceof Error && /SASL|authentication/i.test(`${err.name} ${err.message}`)) return false;
    throw err;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sets (or, with `password` undefined, deletes) the `mechanism` SCRAM credential of `username` with Kafka's
 * ConfigCommand, as the brokers' principal: a user may hold one credential per mechanism, each with its own
 * password. One mechanism per call: Kafka refuses to alter a user's credentials twice in one request.
 */
export async function setScramCredential(
  cfg: StackConfig,
  port: number,
  username: string,
  mechanism: KafkaSasl['mechanism'],
  password?: string,
): Promise<void> {
  const commandConfig = resolve(cfg.paths.conf, 'kafka-tools.properties');
  writeProps(commandConfig, {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': jaasConfig(PLAIN_MODULE, { username: BROKER_PRINCIPAL, password: cfg.kafkaBrokerPassword }),
  });
  const change = password === undefined ? ['--delete-config', mechanism.toUpperCase()] : ['--add-config', scramCredential(mechanism.toUpperCase(), password)];
  const args = [
    '--bootstrap-server',
    `127.0.0.1:${port}`,
    '--command-config',
    commandConfig,
    '--alter',
    ...change,
    '--entity-type',
    'users',
    '--entity-name',
    username,
  ];
  await promisify(execFile)(cfg.java, javaArgs(cfg, '256m', cfg.paths.kafkaLib, 'kafka.admin.ConfigCommand', args));
}

/**
 * The shop's outbox topics exist once the cluster is whole (a service may read them, not create them); and with authentication,
 * every principal of the shop can log in to the broker at `port` (created with Kafka's ConfigCommand where
 * it cannot), and the cluster's ACLs are the policy's.
 */
export async function prepareKafka(cfg: StackConfig, port: number, progress: (msg: string) => void): Promise<void> {
  const kafka = createKafka({ brokers: [`127.0.0.1:${port}`], requestTimeoutMs: cfg.infra.kafka.requestTimeoutMs }, 'qtshop-stack', undefined, {
    retry: { retries: 2 },
    ...brokerSasl(cfg),
  });
  // In a cluster the brokers come up one by one: the topics (replicated on up to three) are created once every
  // broker is there, by the last one to become ready.
  const admin0 = kafka.admin();
  await admin0.connect();
  const brokers = await admin0
    .describeCluster()
    .then((c) => c.brokers.length)
    .finally(() => admin0.disconnect());
  if (brokers >= cfg.infra.kafka.nodes.length) await ensureTopics(kafka, TOPICS);
  const mechanism = mechanismOf(cfg);
  if (!mechanism) return;
  const missing: string[] = [];
  for (const p of KAFKA_PRINCIPALS) if (!(await canLogIn(cfg, port, p, mechanism))) missing.push(p);
  for (const p of missing) {
    progress(`kafka: creating the SCRAM credentials of ${p}`);
    await setScramCredential(cfg, port, p, mechanism, devPassword(p));
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { created, deleted } = await applyKafkaGrants(admin);
    if (created + deleted > 0) progress(`kafka: ACLs applied (${created} created, ${deleted} removed)`);
  } finally {
    await admin.disconnect();
  }
}
