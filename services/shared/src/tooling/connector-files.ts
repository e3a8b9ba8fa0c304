// A connector file by name, for the tools and tests that work with one connector.
import { resolve } from 'node:path';
import { CONNECT_CONFIG_DIR, readConnectorFile, type ConnectorConfig } from '../delivery/connector-files';

export function readConnector(name: string, dir = CONNECT_CONFIG_DIR): ConnectorConfig {
  return readConnectorFile(resolve(dir, `${name}.json`));
}
