// What an outbox row's createdAt header must be: its created_at as createdAtHeaderSql prints it.
import type { Knex } from '@qtshop/shared/infra';
import { createdAtHeaderSql } from '@qtshop/shared/outbox';

export async function createdAtHeaderOf(db: Knex, id: string): Promise<string> {
  const { rows } = (await db.raw(`select ${createdAtHeaderSql('created_at')} as header from outbox where id = ?`, [id])) as { rows: Array<{ header: string }> };
  return rows[0]!.header;
}
