// npm run migrate [db...]: applies every service database's migrations (re-runnable).
import { createLogger, runAsScript, type Logger } from '@qtshop/shared/platform';
import { createDb, DATABASES, loadInfra, type DatabaseName } from '@qtshop/shared/infra';
import { migrateLatest } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../migrations';

const log = createLogger('migrate');

export async function migrateAll(only: string[] = [], logger: Logger = log): Promise<void> {
  const infra = loadInfra();
  const targets = (only.length ? only : Object.keys(MIGRATIONS)) as DatabaseName[];
  for (const db of targets) {
    const list = MIGRATIONS[db];
    if (!list) throw new Error(`no migrations for database "${db}" (known: ${DATABASES.join(', ')})`);
    const knex = createDb(infra, db, { max: 1 });
    try {
      const applied = await migrateLatest(knex, list);
      logger.info({ database: db, applied }, applied.length ? 'migrated' : 'up to date');
    } finally {
      await knex.destroy();
    }
  }
}

runAsScript(import.meta.url, 'migrate', migrateAll, { report: (err) => log.fatal({ err }, 'migration failed') });
