// Debezium connector configs live as JSON files committed in connect-config/, one per outbox database
// (docs/concepts.md "Connector management").
// Each file is the body of PUT /connectors/<name>/config; ${env:...} values are resolved by the
// Connect worker's EnvVarConfigProvider, so the same file serves the local stack and docker-compose.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * connect-config/ in the nearest folder above this module that has one: the repository root from the
 * sources (services/shared/src), and /app from a compiled bundle (dist/, see scripts/build.ts).
 */
export function findConnectConfigDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'connect-config'))) return resolve(dir, 'connect-config');
    if (dirname(dir) === dir) return resolve(from, '../../../connect-config'); // none: the sources' path, named by the error that follows
  }
}

export const CONNECT_CONFIG_DIR = findConnectConfigDir();

export type ConnectorConfig = Record<string, string> & { name: string };

export function connectorFiles(dir = CONNECT_CONFIG_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => resolve(dir, f));
}

export function readConnectorFile(path: string): ConnectorConfig {
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (typeof cfg.name !== 'string' || !cfg.name) throw new Error(`${path}: "name" is missing`);
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v !== 'string') throw new Error(`${path}: "${k}" must be a string (Kafka Connect configs are strings)`);
  }
  return cfg as ConnectorConfig;
}

/** The connector files by the database each serves (its database.dbname): the relay and `npm run status` use it. */
export function connectorsByDatabase(dir = CONNECT_CONFIG_DIR): Map<string, ConnectorConfig> {
  return new Map(
    connectorFiles(dir)
      .map(readConnectorFile)
      .map((c) => [c['database.dbname'] ?? '', c]),
  );
}
