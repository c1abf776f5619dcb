import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './index';

/**
 * Client secrets at rest: AES-256-GCM, stored as `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64).
 * The key id lets old keys keep decrypting during a rotation (ENCRYPTION_OLD_KEYS) while every
 * new write, and `csp provider rotate-key`, uses the current ENCRYPTION_KEY.
 */
export class Keyring {
  constructor(
    private readonly currentId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {
    if (!keys.has(currentId)) throw new Error(`encryption key ${currentId} is not in the keyring`);
  }

  get currentKeyId(): string {
    return this.currentId;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.currentId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
  }

  decrypt(sealed: string): string {
    const [version, keyId, iv, tag, ct] = sealed.split(':');
    if (version !== 'v1' || !keyId || !iv || !tag || ct === undefined) throw new Error('stored secret is not in the v1 format');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`stored secret was sealed with key "${keyId}", which is not configured (add it to ENCRYPTION_OLD_KEYS)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`stored secret could not be decrypted with key "${keyId}" (wrong key or tampered data)`);
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
  if (cfg.ENCRYPTION_KEY) {
    current = Buffer.from(cfg.ENCRYPTION_KEY, 'base64');
  } else {
    const file = path.join(cfg.DATA_DIR, 'encryption.key');
    if (!existsSync(file)) {
      mkdirSync(cfg.DATA_DIR, { recursive: true });
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    }
    chmodSync(file, 0o600);
    current = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
  keys.set(cfg.ENCRYPTION_KEY_ID, current);
  return new Keyring(cfg.ENCRYPTION_KEY_ID, keys);
}
