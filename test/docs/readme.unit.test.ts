import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configTable, TABLE_FILE, withTable } from '../../scripts/config-table';

describe('docs/configuration.md configuration table', () => {
  it('is the table generated from the settings (run npm run -s config-table -- --write after adding a setting)', () => {
    const page = readFileSync(resolve(import.meta.dirname, '../..', TABLE_FILE), 'utf8');
    expect(page).toBe(withTable(page));
  });
});

describe('configuration table: used by', () => {
  const usedBy = (key: string) =>
    configTable()
      .split('\n')
      .find((row) => row.startsWith(`| \`${key}\` |`))
      ?.split(' | ')[2];

  it('lists every service whose settings have the key, not only the first', () => {
    for (const key of ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'RATE_LIMIT_ENABLED', 'RATE_LIMIT_PER_MINUTE']) {
      expect(usedBy(key)).toBe('basket, order-command, order-query');
    }
    expect(usedBy('OUTBOX_MAX_EVENT_BYTES')).toBe('catalog, inventory, order-command');
    expect(usedBy('CONSUMER_MAX_BATCH')).toBe('consuming services (all but the relay)');
    expect(usedBy('BASKET_MAX_LINES')).toBe('basket');
  });
});
