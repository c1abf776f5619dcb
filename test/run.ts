/**
 * Runs every test file with node's test runner. Starts what the tests share: one PostgreSQL
 * server (DATABASE_URL when set, else an embedded one in a fresh folder); each test file makes
 * its own database on it. Each file needing Temporal starts its own dev or time-skipping server
 * from the pinned binaries (or uses TEMPORAL_ADDRESS).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { embeddedOwnerUrlFor, embeddedUrlFor } from '../db/embedded';
import { freePort } from './support/ports';
import { startTestServer } from './support/test-server';

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'support' || name === 'fixtures' ? [] : testFiles(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2);
  const files = testFiles(path.join(PROJECT_ROOT, 'test'))
    .concat(testFiles(path.join(PROJECT_ROOT, 'core')))
    .concat(testFiles(path.join(PROJECT_ROOT, 'lib')))
    .concat(testFiles(path.join(PROJECT_ROOT, 'client')))
    .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
    .sort();
  let serverUrl = process.env.DATABASE_URL;
  // The embedded server's owner and application roles: each test file's database is the owner's
  // and the tests connect as the application role, as the product does (test/support/database.ts).
  const roles: NodeJS.ProcessEnv = {};
  let stop = async () => undefined as void;
  // One folder per run: two runs from one checkout (a subset while the suite runs) must not share it.
  const runDir = path.join(PROJECT_ROOT, '.data', `test-run-${process.pid}`);
  if (!serverUrl) {
    rmSync(runDir, { recursive: true, force: true });
    // 0755: the embedded server runs as the postgres user when we are root, and must reach its folder.
    mkdirSync(runDir, { recursive: true, mode: 0o755 });
    const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const pg = await startTestServer(runDir, ports);
    serverUrl = pg.url;
    roles.TEST_DATABASE_OWNER_URL = embeddedOwnerUrlFor(runDir, pg.port, 'postgres')!;
    roles.TEST_DATABASE_APP_URL = embeddedUrlFor(runDir, pg.port, 'postgres')!;
    stop = () => pg.stop();
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        ...roles,
        TEST_DATABASE_SERVER_URL: serverUrl,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
    },
  );
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  await stop();
  rmSync(runDir, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`test runner: ${err.message}\n`);
    process.exit(1);
  },
);
