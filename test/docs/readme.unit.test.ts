import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withTable } from '../../scripts/config-table';

describe('README configuration table', () => {
  it('is the table generated from the settings (run npm run -s config-table -- --write after adding a setting)', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toBe(withTable(readme));
  });
});
