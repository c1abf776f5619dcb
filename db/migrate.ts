import path from 'node:path';
import { clientConfig } from './pool';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** Applies every pending migration; safe to run at each start and concurrently (advisory lock). */
export async function migrateUp(databaseUrl: string, log: (msg: string) => void = () => undefined, connectTimeoutMs?: number): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  const applied = await runner({
    databaseUrl: clientConfig(databaseUrl, { connectTimeoutMs }),
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    singleTransaction: true,
    log,
    verbose: false,
  });
  return applied.map((m) => m.name);
}

export async function migrateDown(databaseUrl: string, count = 1): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  const done = await runner({ databaseUrl, dir: MIGRATIONS_DIR, direction: 'down', migrationsTable: 'pgmigrations', count, log: () => undefined });
  return done.map((m) => m.name);
}
