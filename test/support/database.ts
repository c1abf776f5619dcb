import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../db/pool';
import { ensureDatabase } from '../../db/embedded';
import { ensureOwnedDatabase, migrateAndGrant, roleOf } from '../../db/roles';
import { migrateUp } from '../../db/migrate';

export interface TestDatabase {
  /** The application role's URL, as the worker, CLI and console connect (the superuser's on a server without the roles). */
  url: string;
  /** The owner's: migrations, and what only the owner may do. */
  ownerUrl: string;
  /** On `url`. */
  pool: Pool;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_SERVER_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_SERVER_URL is not set: run the tests with `npm test`');
  return url;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A new, empty database for one test file, migrated unless asked not to. On the test run's
 * embedded server (test/run.ts) it belongs to the owner role and `url` is the application role's,
 * as in the product; on another server (DATABASE_URL) both are that URL's role.
 */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const ownerServer = process.env.TEST_DATABASE_OWNER_URL;
  const appServer = process.env.TEST_DATABASE_APP_URL;
  let url: string;
  let ownerUrl: string;
  if (ownerServer && appServer) {
    await ensureOwnedDatabase(serverUrl(), name, roleOf(ownerServer), roleOf(appServer));
    ownerUrl = withDatabase(ownerServer, name);
    url = withDatabase(appServer, name);
  } else {
    url = ownerUrl = await ensureDatabase(serverUrl(), name);
  }
  if (opts.migrate !== false) await migrateAndGrant({ ownerUrl, appUrl: url }, (u) => migrateUp(u));
  const pool = createPool(url, 20);
  return {
    url,
    ownerUrl,
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
