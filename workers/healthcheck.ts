/** Container health: the worker's database and Temporal cluster answer. Exit 0 healthy, 1 not. */
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig } from '../config';
import { temporalTls } from '../config/temporal-tls';

async function main(): Promise<void> {
  const cfg = loadConfig();
  if (!cfg.DATABASE_URL || !cfg.TEMPORAL_ADDRESS)
    throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set in a deployment');
  const db = new pg.Client({ connectionString: cfg.DATABASE_URL, connectionTimeoutMillis: 5000 });
  await db.connect();
  await db.query('SELECT 1');
  await db.end();
  const connection = await Connection.connect({
    address: cfg.TEMPORAL_ADDRESS,
    tls: temporalTls(cfg),
    connectTimeout: '5 seconds',
  });
  await connection.workflowService.getSystemInfo({});
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`unhealthy: ${err.message}\n`);
    process.exit(1);
  },
);
