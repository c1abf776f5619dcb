import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../db/pool';
import { ensureDatabase } from '../../db/embedded';
import { migrateUp } from '../../db/migrate';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_SERVER_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_SERVER_URL is not set: run the tests with `npm test`');
  return url;
}

/** A new, empty database for one test file, migrated unless asked not to. */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(serverUrl(), name);
  if (opts.migrate !== false) await migrateUp(url);
  const pool = createPool(url, 20);
  return {
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    },
  };
}
