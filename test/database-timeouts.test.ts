import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { assertDatabaseAnswers, DatabaseUnavailableError } from '../db/pool';
import { freePort } from './support/ports';

// A "database" that accepts connections and never says a word: the worst kind of unavailable.
const sockets = new Set<net.Socket>();
let connections = 0;
const silent = net.createServer((s) => {
  connections++;
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
let silentUrl: string;
let closedUrl: string;
let env: NodeJS.ProcessEnv;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'csp-timeouts-'));

before(async () => {
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `postgres://csp:pw@127.0.0.1:${(silent.address() as net.AddressInfo).port}/csp`;
  closedUrl = `postgres://csp:pw@127.0.0.1:${await freePort()}/csp`;
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    CONSOLE_PORT: String(await freePort()),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  delete env.TEMPORAL_ADDRESS;
});

after(() => {
  for (const s of sockets) s.destroy();
  silent.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a database that accepts but never answers is reported within the connect timeout, by address', async () => {
  const started = Date.now();
  await assert.rejects(
    assertDatabaseAnswers(silentUrl, 500),
    (e: Error) =>
      e instanceof DatabaseUnavailableError &&
      /127\.0\.0\.1:\d+\/csp is unavailable/.test(e.message) &&
      !e.message.includes('pw'),
  );
  assert.ok(Date.now() - started < 5000);
});

function csp(extra: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...env, ...extra },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('the CLI exits 3 ("a service unavailable") for a silent or an unreachable DATABASE_URL, naming it', () => {
  const hung = csp({ DATABASE_URL: silentUrl, DB_CONNECT_TIMEOUT_MS: '1000' }, 'provider', 'list');
  assert.equal(hung.status, 3, hung.stderr);
  assert.match(hung.stderr, /PostgreSQL at 127\.0\.0\.1:\d+\/csp is unavailable/);
  const refused = csp({ DATABASE_URL: closedUrl }, 'provider', 'list');
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(refused.stderr, /PostgreSQL at 127\.0\.0\.1:\d+\/csp is unavailable: .*ECONNREFUSED/);
});

test('npm start exits 3 for a database that never answers, and honours the first SIGTERM while it waits', async () => {
  const run = async (extra: NodeJS.ProcessEnv) => {
    // Ports picked just now: ones picked earlier may have been taken by a test running alongside.
    const ports = {
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      SIMULATOR_PORT: String(await freePort()),
      EMBEDDED_PG_PORT: String(await freePort()),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...env, ...ports, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    return { child, exited, stderr: () => stderr };
  };
  const quick = await run({ DATABASE_URL: silentUrl, DB_CONNECT_TIMEOUT_MS: '1000' });
  assert.equal(await quick.exited, 3, quick.stderr());
  assert.match(quick.stderr(), /PostgreSQL at 127\.0\.0\.1:\d+\/csp is unavailable/);

  const before = connections;
  const waiting = await run({ DATABASE_URL: silentUrl, DB_CONNECT_TIMEOUT_MS: '120000' });
  const deadline = Date.now() + 30_000;
  while (connections === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(connections > before, 'the system is waiting on the database');
  const signalled = Date.now();
  waiting.child.kill('SIGTERM');
  assert.equal(await waiting.exited, 0, waiting.stderr());
  assert.ok(Date.now() - signalled < 5000, `stopped ${Date.now() - signalled} ms after the signal`);
  assert.match(waiting.stderr(), /"msg":"stopped"/);
});

test('a connection killed mid-transaction (PostgreSQL restarted) fails that transaction, not the process', async () => {
  const { freshDatabase } = await import('./support/database.js');
  const { inTransaction } = await import('../db/pool.js');
  const db = await freshDatabase({ migrate: false });
  try {
    await assert.rejects(
      inTransaction(db.pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // Terminated while idle in the transaction: the client gets an 'error' event, not a rejected query.
        await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((r) => setTimeout(r, 300));
        await client.query('SELECT 1');
      }),
    );
    const after = await db.pool.query<{ ok: number }>('SELECT 1 AS ok');
    assert.equal(after.rows[0]!.ok, 1, 'the pool goes on with a fresh connection');
  } finally {
    await db.drop();
  }
});
