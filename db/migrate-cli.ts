/** `npm run migrate [-- down [N]]`: apply pending migrations (the system also does it at every start). */
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { startDatabase } from '../workers/runtime';
import { migrateDown, migrateUp } from './migrate';
import { migrateAndGrant } from './roles';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT });
  const db = await startDatabase(cfg, log);
  try {
    const [direction, count] = process.argv.slice(2);
    if (direction === 'down') {
      const n = count === undefined ? 1 : Number(count);
      if (!Number.isInteger(n) || n < 1) throw new Error('down takes a whole number of migrations to revert');
      process.stdout.write(`reverted: ${(await migrateDown(db.ownerUrl, n)).join(', ') || '(none)'}\n`);
    } else if (direction === undefined || direction === 'up') {
      process.stdout.write(
        `applied: ${(await migrateAndGrant(db, (url) => migrateUp(url))).join(', ') || '(none, up to date)'}\n`,
      );
    } else {
      throw new Error(`unknown direction "${direction}": use up or down [N]`);
    }
  } finally {
    await db.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`migrate: ${err.message}\n`);
  process.exit(1);
});
