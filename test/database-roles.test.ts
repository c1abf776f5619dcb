import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../config';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrateUp } from '../db/migrate';
import { APP_ROLE, OWNER_ROLE } from '../db/roles';
import { migrateDatabase, startDatabase, startTemporal } from '../workers/runtime';
import { freshDatabase, type TestDatabase } from './support/database';
import { freePort } from './support/ports';

// The test run's databases belong to the owner role and the tests connect as the application role
// (test/run.ts, test/support/database.ts), as the worker, the CLI and the console do.
let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
});
after(async () => {
  await db?.drop();
});

async function refused(sql: string, why: RegExp): Promise<void> {
  await assert.rejects(db.pool.query(sql), why, sql);
}

test('the application role is neither superuser nor owner, and cannot reach server files or programs', async () => {
  const me = await db.pool.query<Record<string, unknown>>(
    `SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
            ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid) AS member_of,
            (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owns,
            (SELECT count(*)::int FROM pg_database WHERE datdba = r.oid) AS owns_databases
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  assert.deepEqual(me.rows[0], {
    name: APP_ROLE,
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
    member_of: [],
    owns: 0,
    owns_databases: 0,
  });
  await refused(`COPY (SELECT 1) TO PROGRAM 'id'`, /permission denied|must be superuser/);
  await refused(`COPY provider FROM PROGRAM 'head -c 60 /etc/shadow'`, /permission denied|must be superuser/);
  await refused(`COPY provider FROM '/etc/passwd'`, /permission denied|must be superuser/);
  await refused(`SELECT pg_read_file('/etc/passwd')`, /permission denied/);
  await refused(`SELECT pg_ls_dir('.')`, /permission denied/);
  await refused(`SELECT lo_import('/etc/passwd')`, /permission denied|must be superuser/);
});

test('the application role has no DDL, no TRUNCATE, and only appends to the audit trails', async () => {
  await refused('TRUNCATE usage_charge', /permission denied/);
  await refused('CREATE TABLE evil (x int)', /permission denied/);
  await refused('CREATE TEMP TABLE evil (x int)', /permission denied/);
  await refused('ALTER TABLE provider ADD COLUMN evil int', /must be owner|permission denied/);
  await refused('DROP TABLE usage_line', /must be owner|permission denied/);
  await refused('CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', /permission denied/);
  await refused('CREATE SCHEMA evil', /permission denied/);
  await refused(`UPDATE audit_event SET actor = 'someone else'`, /permission denied/);
  await refused('DELETE FROM audit_event', /permission denied/);
  await refused('SELECT * FROM pgmigrations', /permission denied/);
  // What the code does: read, write, use sequences.
  await db.pool.query(
    `INSERT INTO audit_event (actor, source, kind, subject) VALUES ('test', 'cli', 'test', 'roles') RETURNING id`,
  );
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM audit_event')).rows[0].n, 1);
});

test('an embedded data folder made with only the superuser gets the owner and application roles at its next start, its database adopted in place', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'csp-roles-'));
  const port = await freePort();
  try {
    // As the code before the roles did: the superuser made the database and ran the migrations.
    const server = await startEmbeddedPostgres(dataDir, port);
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`DROP ROLE ${APP_ROLE}`);
    await admin.query(`DROP ROLE ${OWNER_ROLE}`);
    await admin.query('CREATE DATABASE csp');
    await admin.end();
    rmSync(path.join(dataDir, 'pg-owner.password'));
    rmSync(path.join(dataDir, 'pg-app.password'));
    const legacy = new URL(server.url);
    legacy.pathname = '/csp';
    await migrateUp(legacy.toString());
    await server.stop();

    const cfg = loadConfig({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
    const log = pino({ level: 'silent' });
    const started = await startDatabase(cfg, log);
    try {
      await migrateDatabase(started, cfg, log);
      for (const file of ['pg-owner.password', 'pg-app.password'])
        assert.equal(statSync(path.join(dataDir, file)).mode & 0o777, 0o600, file);
      const app = new pg.Client({ connectionString: started.appUrl });
      await app.connect();
      try {
        const who = await app.query(
          `SELECT current_user AS me, (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'usage_line') AS owner,
                  (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'csp') AS db_owner`,
        );
        assert.deepEqual(who.rows[0], { me: APP_ROLE, owner: OWNER_ROLE, db_owner: OWNER_ROLE });
        await app.query(
          `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'c1', 'x', 'UTC', '{06:00}')`,
        );
        await assert.rejects(app.query('TRUNCATE provider CASCADE'), /permission denied/);
      } finally {
        await app.end();
      }
    } finally {
      await started.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the data folder is private: the folder itself, and no file in it (passwords, keys, logs, Temporal's SQLite) open to others", async () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'csp-private-'));
  const dataDir = path.join(parent, 'data');
  const cfg = loadConfig({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
  });
  const log = pino({ level: 'silent' });
  const database = await startDatabase(cfg, log);
  const temporal = await startTemporal(cfg, log).catch(async (err) => {
    await database.stop();
    throw err;
  });
  try {
    const mode = statSync(dataDir).mode & 0o777;
    // 0711 only when, as root, PostgreSQL runs as the postgres user (who must pass through to pg/).
    const pgOwner = statSync(path.join(dataDir, 'pg')).uid;
    assert.equal(mode, pgOwner === process.getuid!() ? 0o700 : 0o711, `data folder ${mode.toString(8)}`);
    assert.ok(readdirSync(path.join(dataDir, 'temporal')).includes('temporal.sqlite'));
    const open: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        const m = statSync(full).mode & 0o777;
        if (m & 0o077) open.push(`${path.relative(dataDir, full)} ${m.toString(8)}`);
        if (e.isDirectory()) walk(full);
      }
    };
    walk(dataDir);
    assert.deepEqual(open, []);
    assert.equal(statSync(path.join(dataDir, 'temporal', 'temporal.sqlite')).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(dataDir, 'pg-app.password'), 'utf8'), /^\S{24,}\n$/);
  } finally {
    await temporal.stop();
    await database.stop();
    rmSync(parent, { recursive: true, force: true });
  }
});
