import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { keyringFromConfig } from '../config/secrets';
import { KeyMismatchError, verifyKeyring } from '../db/encryption-keys';
import { freshDatabase, type TestDatabase } from './support/database';

// Two data folders = two dev keys under the same key id "k1": the situation of a CLI run elsewhere.
const folderA = mkdtempSync(path.join(os.tmpdir(), 'csp-key-a-'));
const folderB = mkdtempSync(path.join(os.tmpdir(), 'csp-key-b-'));
let db: TestDatabase;

before(async () => {
  db = await freshDatabase();
});

after(async () => {
  await db.drop();
  rmSync(folderA, { recursive: true, force: true });
  rmSync(folderB, { recursive: true, force: true });
});

test('a keyring from the configuration encrypts nothing until its fingerprint was checked against the database', async () => {
  const a = keyringFromConfig(loadConfig({ DATA_DIR: folderA }));
  assert.throws(() => a.encrypt('x'), /not checked against the database/);
  await verifyKeyring(db.pool, a);
  assert.equal(a.decrypt(a.encrypt('s3cret')), 's3cret');
  const { rows } = await db.pool.query('SELECT key_id, fingerprint FROM encryption_key');
  assert.equal(rows.length, 1);
  assert.equal(rows[0].key_id, 'k1');
  assert.match(rows[0].fingerprint, /^[0-9a-f]{32}$/);
});

test("another data folder's dev key under the same id is refused, naming the file to fix; nothing is encrypted", async () => {
  const b = keyringFromConfig(loadConfig({ DATA_DIR: folderB }));
  await assert.rejects(
    verifyKeyring(db.pool, b),
    (e: Error) =>
      e instanceof KeyMismatchError &&
      e.message.includes(path.join(folderB, 'encryption.key')) &&
      /ENCRYPTION_KEY/.test(e.message),
  );
  assert.throws(() => b.encrypt('x'), /not checked/);
});

test('a wrong ENCRYPTION_KEY is refused, naming the variable; the right one and old keys pass', async () => {
  const wrong = keyringFromConfig(loadConfig({ ENCRYPTION_KEY: randomBytes(32).toString('base64') }));
  await assert.rejects(
    verifyKeyring(db.pool, wrong),
    (e: Error) => e instanceof KeyMismatchError && /from ENCRYPTION_KEY is not the key/.test(e.message),
  );
  // A rotation: the new key under a new id is recorded; the old one (the dev key) still matches as k1.
  const { readFileSync } = await import('node:fs');
  const oldKey = readFileSync(path.join(folderA, 'encryption.key'), 'utf8').trim();
  const rotated = keyringFromConfig(
    loadConfig({
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ENCRYPTION_KEY_ID: 'k2',
      ENCRYPTION_OLD_KEYS: `k1:${oldKey}`,
    }),
  );
  await verifyKeyring(db.pool, rotated);
  const badOld = keyringFromConfig(
    loadConfig({
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ENCRYPTION_KEY_ID: 'k3',
      ENCRYPTION_OLD_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    }),
  );
  await assert.rejects(verifyKeyring(db.pool, badOld), /"k1" from ENCRYPTION_OLD_KEYS/);
});

test('a database sealed before fingerprints existed: the first key must open what it holds', async () => {
  const legacy = await freshDatabase();
  try {
    const a = keyringFromConfig(loadConfig({ DATA_DIR: folderA }));
    await verifyKeyring(legacy.pool, a);
    await legacy.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p-1', 'P', 'c', $1, 'UTC', '{06:00}')`,
      [a.encrypt('s')],
    );
    await legacy.pool.query('DELETE FROM encryption_key');
    const b = keyringFromConfig(loadConfig({ DATA_DIR: folderB }));
    await assert.rejects(verifyKeyring(legacy.pool, b), /cannot open the secrets this database holds/);
  } finally {
    await legacy.drop();
  }
});
