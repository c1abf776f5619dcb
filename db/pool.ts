import pg from 'pg';

// int8 ids and counts fit in a JS number here; numeric (money) stays a string, never a float.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolTimeouts {
  /** Giving up on a connection that is not established (or not answered) within this time. */
  connectTimeoutMs?: number;
  /** The server cancels a statement running longer; the client gives up a little later (a server that never answers). */
  statementTimeoutMs?: number;
}

/** The defaults of DB_CONNECT_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS (config/index.ts). */
export const DEFAULT_TIMEOUTS = { connectTimeoutMs: 10_000, statementTimeoutMs: 300_000 } as const;

/** A database that cannot be reached or does not answer: exit code 3 wherever it stops a command. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  readonly exitCode = 3;
}

export function clientConfig(databaseUrl: string, t: PoolTimeouts = {}): pg.ClientConfig {
  const connect = t.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs;
  const statement = t.statementTimeoutMs ?? DEFAULT_TIMEOUTS.statementTimeoutMs;
  return {
    connectionString: databaseUrl,
    application_name: 'csp-billing',
    connectionTimeoutMillis: connect,
    statement_timeout: statement,
    // Client side: a server that accepted the connection but never answers still lets go.
    query_timeout: statement + connect,
  };
}

export function createPool(databaseUrl: string, max = 10, timeouts: PoolTimeouts = {}): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(databaseUrl, timeouts), max });
  // An idle client losing its server (PostgreSQL restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Where a URL points, without its password. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** Connects and runs `SELECT 1` within the connect timeout; otherwise says what is unreachable. */
export async function assertDatabaseAnswers(
  databaseUrl: string,
  connectTimeoutMs: number = DEFAULT_TIMEOUTS.connectTimeoutMs,
): Promise<void> {
  const client = new pg.Client({
    ...clientConfig(databaseUrl, { connectTimeoutMs, statementTimeoutMs: connectTimeoutMs }),
    query_timeout: connectTimeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const why = (err as Error).message || (err as { code?: string }).code || 'no answer';
    throw new DatabaseUnavailableError(
      `PostgreSQL at ${describeDatabase(databaseUrl)} is unavailable: ${why} (DB_CONNECT_TIMEOUT_MS=${connectTimeoutMs})`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no listener for its connection dying (PostgreSQL restarted mid-
  // transaction): without one the 'error' event would crash the process. The failing query
  // rejects anyway; the broken client is then discarded, not returned to the pool.
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
