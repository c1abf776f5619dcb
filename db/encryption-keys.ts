import type { Pool } from './pool';
import type { Keyring } from '../config/secrets';

/** A key whose fingerprint differs from the one recorded for its id: exit code 2, a setting to fix. */
export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError';
  readonly exitCode = 2;
}

/**
 * Records the current key's fingerprint under its id (first use), then checks every key of the
 * keyring against what the database holds. On success the keyring may encrypt and decrypt.
 */
export async function verifyKeyring(pool: Pool, keyring: Keyring): Promise<void> {
  const fingerprints = keyring.fingerprints();
  // A database from before fingerprints were recorded: the first key must open what is already sealed under its id.
  const recorded = await pool.query('SELECT 1 FROM encryption_key WHERE key_id = $1', [keyring.currentKeyId]);
  if (recorded.rowCount === 0) {
    const sealed = await pool.query<{ secret_ciphertext: string }>(
      `SELECT secret_ciphertext FROM provider WHERE split_part(secret_ciphertext, ':', 2) = $1 LIMIT 1`,
      [keyring.currentKeyId],
    );
    if (sealed.rows[0] && !keyring.opens(sealed.rows[0].secret_ciphertext)) {
      throw new KeyMismatchError(
        `encryption key "${keyring.currentKeyId}" from ${keyring.source} cannot open the secrets this database holds under that id: use the ENCRYPTION_KEY (or DATA_DIR) that stored them`,
      );
    }
  }
  await pool.query('INSERT INTO encryption_key (key_id, fingerprint) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [
    keyring.currentKeyId,
    fingerprints.get(keyring.currentKeyId),
  ]);
  const { rows } = await pool.query<{ key_id: string; fingerprint: string }>(
    'SELECT key_id, fingerprint FROM encryption_key WHERE key_id = ANY($1::text[])',
    [[...fingerprints.keys()]],
  );
  for (const row of rows) {
    const ours = fingerprints.get(row.key_id)!;
    if (ours !== row.fingerprint) {
      throw new KeyMismatchError(
        `encryption key "${row.key_id}" from ${row.key_id === keyring.currentKeyId ? keyring.source : 'ENCRYPTION_OLD_KEYS'} is not the key this database's secrets are sealed with ` +
          `(fingerprint ${ours.slice(0, 12)}…, the database recorded ${row.fingerprint.slice(0, 12)}… for "${row.key_id}"). ` +
          'Use the same ENCRYPTION_KEY (or the same DATA_DIR, whose encryption.key holds the dev key) as the system that stored them; nothing was encrypted or decrypted',
      );
    }
  }
  keyring.markVerified();
}
