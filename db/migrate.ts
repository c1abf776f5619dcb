import path from 'node:path';
import pg from 'pg';
import { clientConfig } from './pool';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/**
 * Applies every pending migration; safe to run at each start and concurrently: a second worker
 * starting at the same moment waits for the first's advisory lock, then finds nothing to do
 * (node-pg-migrate's default, 'fail', would stop that worker at start-up).
 */
export async function migrateUp(
  databaseUrl: string,
  log: (msg: string) => void = () => undefined,
  connectTimeoutMs?: number,
): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  return withMigrationClient(clientConfig(databaseUrl, { connectTimeoutMs }), async (dbClient) => {
    const applied = await runner({
      dbClient,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Infinity,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log,
      verbose: false,
    });
    return applied.map((m) => m.name);
  });
}

/**
 * Runs node-pg-migrate on a connection of our own: the runner does not wait for its own
 * connection to close, and a server ending that connection meanwhile (a database dropped, a
 * restart) would then raise an error nobody listens for, taking the process down.
 */
async function withMigrationClient<T>(config: pg.ClientConfig, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function migrateDown(databaseUrl: string, count = 1): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  return withMigrationClient({ connectionString: databaseUrl }, async (dbClient) => {
    const done = await runner({
      dbClient,
      dir: MIGRATIONS_DIR,
      direction: 'down',
      migrationsTable: 'pgmigrations',
      count,
      log: () => undefined,
    });
    return done.map((m) => m.name);
  });
}
