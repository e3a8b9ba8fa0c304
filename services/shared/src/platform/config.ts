// Typed configuration from environment variables: one schema per service, every key with a default and a
// line of doc, validated once at start, failing fast with the key's name. No process.env elsewhere.
import { z } from 'zod';

export interface Setting<T extends z.ZodType = z.ZodType> {
  /** What the variable does, one line; shown in the configuration table of docs/configuration.md. */
  doc: string;
  /** Default as the string one would put in the environment. */
  default: string;
  schema: T;
  /**
   * The default is for development only (a well-known token or secret): with NODE_ENV=production the
   * service refuses to start until the variable is set to something else. A function says when, from the
   * environment (a secret unused because another setting replaces it need not be changed).
   */
  devDefault?: boolean | ((env: NodeJS.ProcessEnv) => boolean);
  /**
   * With NODE_ENV=production, why the value given is refused (a secret too short, a URL that is not
   * https); undefined when it is accepted. Called with the variable as set (never the empty "unset"),
   * after the schema accepted it, and with the environment (a setting another replaces need not be
   * checked). The setting's doc says what it refuses.
   */
  production?: (value: string, env: NodeJS.ProcessEnv) => string | undefined;
}

export type Settings = Record<string, Setting>;
export type ConfigOf<S extends Settings> = { [K in keyof S]: z.output<S[K]['schema']> };

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`invalid configuration: ${key}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates every key of `settings` from `env`; throws ConfigError naming the first bad key. */
export function loadConfig<S extends Settings>(settings: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const given = env[key] === undefined || env[key] === '' ? setting.default : env[key];
    const devOnly = typeof setting.devDefault === 'function' ? setting.devDefault(env) : setting.devDefault;
    if (devOnly && env.NODE_ENV === 'production' && given === setting.default) {
      throw new ConfigError(key, `is the development default; set ${key} to a secret of your own (NODE_ENV=production refuses development defaults)`);
    }
    // An empty default means "unset": optional keys then derive their value from others.
    const raw = given === '' ? undefined : given;
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(key, `${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    const refused = raw !== undefined && env.NODE_ENV === 'production' ? setting.production?.(raw, env) : undefined;
    if (refused !== undefined) throw new ConfigError(key, `${refused} (NODE_ENV=production refuses it)`);
    out[key] = parsed.data;
  }
  return out as ConfigOf<S>;
}

/** Zod helpers for the shapes environment variables take. */
export const env = {
  port: () => z.coerce.number().int().min(0).max(65535),
  int: (min = 0) => z.coerce.number().int().min(min),
  string: () => z.string().min(1),
  url: () => z.url(),
  bool: () => z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
  list: () =>
    z
      .string()
      .min(1)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  oneOf: <T extends readonly [string, ...string[]]>(values: T) => z.enum(values),
};
