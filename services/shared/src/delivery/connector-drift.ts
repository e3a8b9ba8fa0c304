// A connector's running configuration against its committed file (connect-config/<name>.json). A change
// made through Connect REST (PUT /connectors/<name>/config) outlives restarts and is invisible in the
// repository: a drifted route.topic.replacement sends every event to the wrong topic while the connector
// reports RUNNING. The relay's supervisor reports drift and restores the file; `npm run status` fails on it.

/**
 * Keys Kafka Connect adds by itself: GET /connectors/<name>/config answers what was PUT, `${env:…}`
 * placeholders unresolved, plus `name` (seen on Kafka Connect 4.1.1 with a body that left it out).
 */
const ADDED_BY_CONNECT = new Set(['name']);

/** Keys whose values are secrets (database.password, ssl.key.password, sasl.jaas.config): never printed. */
const SECRET_KEY = /password|passwd|secret|credential|jaas|token/i;
/** …and values that carry one inside (a connection URL with password=…). */
const SECRET_VALUE = /(password|passwd|secret|token)\s*[=:]/i;
const secret = (key: string, ...values: Array<string | undefined>) => SECRET_KEY.test(key) || values.some((v) => v !== undefined && SECRET_VALUE.test(v));

export interface ConfigDifference {
  key: string;
  /** The running value; absent when the key is unset there, or hidden. */
  running?: string;
  /** The committed value; absent when the file does not set the key, or hidden. */
  committed?: string;
  /** A secret: the values are left out. */
  hidden?: true;
}

/** The keys whose values differ, in key order, secrets' values left out. Pure; unit-tested. */
export function configDrift(committed: Record<string, string>, running: Record<string, string>): ConfigDifference[] {
  const keys = [...new Set([...Object.keys(committed), ...Object.keys(running)])].filter((k) => !ADDED_BY_CONNECT.has(k)).sort();
  const out: ConfigDifference[] = [];
  for (const key of keys) {
    const [r, c] = [running[key], committed[key]];
    if (r === c) continue;
    if (secret(key, r, c)) out.push({ key, hidden: true });
    else out.push({ key, ...(r === undefined ? {} : { running: r }), ...(c === undefined ? {} : { committed: c }) });
  }
  return out;
}

const shown = (v: string | undefined) => (v === undefined ? 'unset' : JSON.stringify(v));

/** One clause per differing key: `key is "running" (committed "value")`. Pure; unit-tested. */
export function describeDrift(drift: ConfigDifference[]): string {
  return drift.map((d) => (d.hidden ? `${d.key} differs (value hidden)` : `${d.key} is ${shown(d.running)} (committed ${shown(d.committed)})`)).join(', ');
}
