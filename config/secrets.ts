import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './index';

/**
 * Client secrets at rest: AES-256-GCM, stored as `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64).
 * The key id lets old keys keep decrypting during a rotation (ENCRYPTION_OLD_KEYS) while every
 * new write, and `csp provider rotate-key`, uses the current ENCRYPTION_KEY.
 */
export class Keyring {
  private verified = false;

  /**
   * `source` names where the keys come from (for messages). A keyring with `mustVerify` refuses
   * to encrypt or decrypt until `markVerified` (db/encryption-keys.ts checked every key's
   * fingerprint against the one the database recorded for its id).
   */
  constructor(
    private readonly currentId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly opts: { mustVerify?: boolean; source?: string } = {},
  ) {
    if (!keys.has(currentId)) throw new Error(`encryption key ${currentId} is not in the keyring`);
  }

  /** Per key id, a fingerprint that identifies the key without revealing it (HMAC of a fixed text under the key). */
  fingerprints(): Map<string, string> {
    return new Map(
      [...this.keys].map(([id, key]) => [
        id,
        createHmac('sha256', key).update('csp-billing key fingerprint v1').digest('hex').slice(0, 32),
      ]),
    );
  }

  get source(): string {
    return this.opts.source ?? 'the configured key';
  }

  markVerified(): void {
    this.verified = true;
  }

  private assertUsable(): void {
    if (this.opts.mustVerify && !this.verified)
      throw new Error('the encryption keys were not checked against the database yet (verifyKeyring)');
  }

  get currentKeyId(): string {
    return this.currentId;
  }

  encrypt(plaintext: string): string {
    this.assertUsable();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.currentId,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      ct.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string): string {
    this.assertUsable();
    const [version, keyId, iv, tag, ct] = sealed.split(':');
    if (version !== 'v1' || !keyId || !iv || !tag || ct === undefined)
      throw new Error('stored secret is not in the v1 format');
    const key = this.keys.get(keyId);
    if (!key)
      throw new Error(
        `stored secret was sealed with key "${keyId}", which is not configured (add it to ENCRYPTION_OLD_KEYS)`,
      );
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`stored secret could not be decrypted with key "${keyId}" (wrong key or tampered data)`);
    }
  }

  /** Whether this keyring can open a sealed value (used before a key id's fingerprint is first recorded). */
  opens(sealed: string): boolean {
    const wasVerified = this.verified;
    this.verified = true;
    try {
      this.decrypt(sealed);
      return true;
    } catch {
      return false;
    } finally {
      this.verified = wasVerified;
    }
  }

  keyIdOf(sealed: string): string | undefined {
    return sealed.split(':')[1];
  }
}

/**
 * ENCRYPTION_KEY when set (production). Otherwise a key generated once into the data folder
 * (mode 0600), so the demo works out of the box; the README says to set a real one.
 */
export function keyringFromConfig(cfg: Config): Keyring {
  const keys = new Map<string, Buffer>();
  for (const entry of cfg.ENCRYPTION_OLD_KEYS.split(',').filter(Boolean)) {
    const [id, b64] = entry.split(':') as [string, string];
    keys.set(id, Buffer.from(b64, 'base64'));
  }
  let current: Buffer;
  let source: string;
  if (cfg.ENCRYPTION_KEY) {
    current = Buffer.from(cfg.ENCRYPTION_KEY, 'base64');
    source = 'ENCRYPTION_KEY';
  } else {
    const file = path.join(cfg.DATA_DIR, 'encryption.key');
    source = `the dev key file ${path.resolve(file)} (DATA_DIR; or set ENCRYPTION_KEY)`;
    if (!existsSync(file)) {
      mkdirSync(cfg.DATA_DIR, { recursive: true });
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    }
    chmodSync(file, 0o600);
    current = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
  keys.set(cfg.ENCRYPTION_KEY_ID, current);
  return new Keyring(cfg.ENCRYPTION_KEY_ID, keys, { mustVerify: true, source });
}
