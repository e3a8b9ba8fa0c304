// Who a process is to the infrastructure, and the passwords it proves it with: its Kafka principal (every
// process authenticates to the brokers with SASL/SCRAM as a principal of its own, and the brokers' ACLs in
// tooling/kafka-access.ts say what each may read and write; KAFKA_SASL_MECHANISM=none turns it off on both
// sides), its Kafka Connect REST user, and the development passwords of all of them, which
// NODE_ENV=production refuses. PostgreSQL roles: pg-roles.ts.
import { ConfigError, env, type Setting } from '../platform/config';

/** The principals the shop's Kafka knows: one per service, the relay, Kafka Connect and the operator's tools. */
export const KAFKA_PRINCIPALS = ['operator', 'connect', 'relay', 'catalog', 'inventory', 'basket', 'order-command', 'order-query'] as const;
export type KafkaPrincipal = (typeof KAFKA_PRINCIPALS)[number];

/** The users of Kafka Connect's REST API: the operator's tools and the relay's supervisor. */
export const CONNECT_REST_USERS = ['operator', 'relay'] as const;

/**
 * The development password of a Kafka principal or a Kafka Connect REST user, which the local stack and
 * the compose files give it unless told otherwise. NODE_ENV=production refuses it (secretOf).
 */
export const devPassword = (username: string) => `${username}-dev-password`;

export const kafkaAuthSettings = {
  KAFKA_SASL_MECHANISM: {
    doc: "SASL mechanism clients authenticate to Kafka with; `none` connects unauthenticated, and the local stack's brokers then run without authentication and ACLs (both sides read this one setting)",
    default: 'scram-sha-256',
    schema: env.oneOf(['scram-sha-256', 'scram-sha-512', 'none'] as const),
  },
  KAFKA_USERNAME: {
    doc: "Kafka principal of this process: each service defaults to its own name, the relay to `relay`, the npm run tools to `operator` (a super user); the brokers' ACLs say what each may read and write",
    default: 'operator',
    schema: env.string(),
  },
  KAFKA_PASSWORD: {
    doc: "Password of KAFKA_USERNAME (SCRAM); unset, the principal's development password `<KAFKA_USERNAME>-dev-password`, which the local stack creates and NODE_ENV=production refuses",
    default: '',
    schema: env.string().optional(),
  },
};

/** The settings that say who a process is: a launcher (npm start, the chaos suite) gives each process its own default. */
export const IDENTITY_SETTINGS = ['KAFKA_USERNAME', 'KAFKA_PASSWORD', 'CONNECT_USERNAME', 'CONNECT_PASSWORD', 'PG_USER', 'PG_PASSWORD'];

/** `e` without the identity settings: what a launcher passes to the services and relays it starts. */
export const withoutIdentity = (e: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(e).filter(([k]) => !IDENTITY_SETTINGS.includes(k)));

/** The settings of a process whose Kafka principal defaults to `principal` (a service, the relay). */
export const kafkaPrincipalSettings = (principal: KafkaPrincipal) => ({
  ...kafkaAuthSettings,
  KAFKA_USERNAME: { ...kafkaAuthSettings.KAFKA_USERNAME, default: principal } satisfies Setting,
});

export interface KafkaSasl {
  mechanism: 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/**
 * The password `setting` gives `username`: its development password when unset. NODE_ENV=production
 * refuses a development password, given or defaulted.
 */
export function secretOf(setting: string, username: string, given: string | undefined, e: NodeJS.ProcessEnv = process.env): string {
  const password = given ?? devPassword(username);
  if (e.NODE_ENV === 'production' && password === devPassword(username))
    throw new ConfigError(
      setting,
      `is the development password of ${username}; set ${setting} to a secret of your own (NODE_ENV=production refuses development defaults)`,
    );
  return password;
}

/** The SASL credentials clients present, or undefined when KAFKA_SASL_MECHANISM=none. */
export function kafkaSasl(
  c: { KAFKA_SASL_MECHANISM: KafkaSasl['mechanism'] | 'none'; KAFKA_USERNAME: string; KAFKA_PASSWORD?: string | undefined },
  e: NodeJS.ProcessEnv = process.env,
): KafkaSasl | undefined {
  if (c.KAFKA_SASL_MECHANISM === 'none') return undefined;
  return { mechanism: c.KAFKA_SASL_MECHANISM, username: c.KAFKA_USERNAME, password: secretOf('KAFKA_PASSWORD', c.KAFKA_USERNAME, c.KAFKA_PASSWORD, e) };
}
