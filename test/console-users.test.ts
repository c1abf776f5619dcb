import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from './support/database';
import { CapturedLogs } from './support/system';
import { checkPassword, ensureInitialAdmin, INITIAL_PASSWORD_FILE } from '../client/console/auth';
import { PROJECT_ROOT } from '../config';

let db: TestDatabase;
let dataDir: string;

before(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'console-users-'));
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function csp(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: db.url, DATA_DIR: dataDir },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('first start: an admin with a random password written once to DATA_DIR/initial-admin-password (0600); the log says where, never what', async () => {
  const logs = new CapturedLogs();
  const file = await ensureInitialAdmin(db.pool, dataDir, logs.logger());
  assert.equal(file, path.join(dataDir, INITIAL_PASSWORD_FILE));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const password = readFileSync(file, 'utf8').trim();
  assert.equal(password.length, 20);
  assert.ok(await checkPassword(db.pool, 'admin', password), 'the written password signs in');
  assert.equal(await checkPassword(db.pool, 'admin', password + 'x'), null);
  assert.match(logs.text(), new RegExp(file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  assert.ok(!logs.text().includes(password), 'the password is not in the log');

  // A second start finds a user: no new admin, the file is not rewritten.
  assert.equal(await ensureInitialAdmin(db.pool, dataDir, logs.logger()), null);
  assert.equal(readFileSync(file, 'utf8').trim(), password);
  const hashes = await db.pool.query<{ password_hash: string }>('SELECT password_hash FROM console_user');
  assert.ok(hashes.rows.every((r) => r.password_hash.startsWith('$argon2id$') && !r.password_hash.includes(password)));
});

test('csp user add|list|set-password|set-role|remove: clear refusals, exit codes, audited', async () => {
  const add = csp(['user', 'add', 'bea', '--role', 'billing', '--password-stdin'], 'she-has-a-long-password\n');
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /user bea added \(billing\)/);
  assert.ok(await checkPassword(db.pool, 'bea', 'she-has-a-long-password'));

  const generated = csp(['user', 'add', 'vic', '--role', 'viewer']);
  assert.equal(generated.code, 0, generated.err);
  const shown = /password \(shown once\): (\S+)/.exec(generated.out)![1]!;
  assert.ok(await checkPassword(db.pool, 'vic', shown));

  assert.deepEqual(
    [csp(['user', 'add', 'bea', '--role', 'viewer']).code, csp(['user', 'add', 'bea', '--role', 'viewer']).err.trim()],
    [2, 'csp: user "bea" already exists'],
  );
  assert.match(csp(['user', 'add', 'Bad Name', '--role', 'viewer']).err, /lower-case letters/);
  assert.match(csp(['user', 'add', 'zed', '--role', 'root']).err, /--role must be one of viewer, billing, admin/);
  const short = csp(['user', 'set-password', 'bea', '--password-stdin'], 'short\n');
  assert.equal(short.code, 2);
  assert.match(short.err, /at least 12 characters/);

  const list = JSON.parse(csp(['user', 'list', '--json']).out) as Array<{ username: string; role: string }>;
  assert.deepEqual(
    list.map((u) => [u.username, u.role]),
    [
      ['admin', 'admin'],
      ['bea', 'billing'],
      ['vic', 'viewer'],
    ],
  );

  assert.equal(csp(['user', 'set-password', 'bea', '--password-stdin'], 'a-brand-new-password\n').code, 0);
  assert.ok(await checkPassword(db.pool, 'bea', 'a-brand-new-password'));
  assert.equal(await checkPassword(db.pool, 'bea', 'she-has-a-long-password'), null);

  const lastAdmin = csp(['user', 'remove', 'admin']);
  assert.equal(lastAdmin.code, 2);
  assert.match(lastAdmin.err, /last admin/);
  assert.equal(csp(['user', 'set-role', 'vic', 'billing']).code, 0);
  assert.equal(csp(['user', 'remove', 'vic']).code, 0);
  assert.match(csp(['user', 'remove', 'vic']).err, /no user "vic"/);

  const audit = await db.pool.query<{ kind: string; subject: string; source: string }>(
    `SELECT kind, subject, source FROM audit_event WHERE outcome = 'APPLIED' ORDER BY id`,
  );
  assert.deepEqual(
    audit.rows.map((r) => `${r.source}:${r.kind}:${r.subject}`),
    ['cli:user.add:bea', 'cli:user.add:vic', 'cli:user.password:bea', 'cli:user.role:vic', 'cli:user.remove:vic'],
  );
});
