import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import argon2 from 'argon2';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool';
import {
  getPasswordHash,
  insertFirstUser,
  insertUser,
  setPasswordHash,
  type ConsoleUser,
} from '../../db/console-users';
import { passwordProblem, usernameProblem, type Role } from './access';

/**
 * Passwords, session tokens and CSRF tokens for the console.
 * - Passwords: argon2id (the argon2 package's defaults: 64 MiB, 3 passes), never stored or logged in clear.
 * - Sessions: 32 random bytes in an HttpOnly, SameSite=Strict cookie; the database keeps only
 *   the token's SHA-256, so a dump of the database cannot be used to sign in.
 * - CSRF: each form carries HMAC-SHA256(session token, "csrf"). It is tied to the session,
 *   needs no storage, and cannot be computed without the cookie the browser never shows to scripts.
 */
export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

// Verified against when the username is unknown, so the answer takes as long either way.
let dummyHash: Promise<string> | undefined;

export async function checkPassword(pool: Pool, username: string, password: string): Promise<ConsoleUser | null> {
  const found = await getPasswordHash(pool, username);
  if (!found) {
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await argon2.verify(await dummyHash, password).catch(() => false);
    return null;
  }
  return (await argon2.verify(found.hash, password).catch(() => false)) ? found.user : null;
}

/**
 * Failed sign-ins counted per key (a user name, a client address) over a sliding window: once a
 * key has `max` failures in the window, it is refused until the oldest leaves the window. Kept in
 * memory: a restart forgets, which costs an attacker a restart per `max` guesses.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();
  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  /** 0 when `key` may try; otherwise the ms until it may. */
  blockedForMs(key: string): number {
    const recent = this.recent(key);
    return recent.length < this.max ? 0 : recent[recent.length - this.max]! + this.windowMs - this.now();
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    // Bounded: an attacker inventing user names cannot grow the map without end.
    if (this.failures.size > 100_000) for (const k of [...this.failures.keys()].slice(0, 10_000)) this.recent(k);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('csrf').digest('base64url');
}

export function sameToken(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** A random password people can type: 20 characters from an unambiguous alphabet (~115 bits). */
export function randomPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) {
    if (b >= 216) continue; // 216 = 4 × 54: keeps the choice uniform
    out += alphabet[b % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : randomPassword();
}

export class UserInputError extends Error {
  override name = 'UserInputError';
}

export async function addUser(pool: Pool, username: string, password: string, role: Role): Promise<ConsoleUser> {
  const problem = usernameProblem(username) ?? passwordProblem(password, username);
  if (problem) throw new UserInputError(problem);
  return insertUser(pool, { username, passwordHash: await hashPassword(password), role });
}

export async function changePassword(pool: Pool, username: string, password: string): Promise<boolean> {
  const problem = passwordProblem(password, username);
  if (problem) throw new UserInputError(problem);
  return setPasswordHash(pool, username, await hashPassword(password));
}

export const INITIAL_ADMIN = 'admin';
export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/**
 * First start with no user: an `admin` with a random password, written once to
 * DATA_DIR/initial-admin-password (0600). The log says where, never what.
 */
export async function ensureInitialAdmin(pool: Pool, dataDir: string, log: Logger): Promise<string | null> {
  const password = randomPassword();
  const file = path.join(dataDir, INITIAL_PASSWORD_FILE);
  const created = await insertFirstUser(pool, {
    username: INITIAL_ADMIN,
    passwordHash: await hashPassword(password),
    role: 'admin',
  });
  if (!created) return null;
  mkdirSync(dataDir, { recursive: true });
  // A file left from an earlier database would hold a password that no longer works: replace it.
  rmSync(file, { force: true });
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  log.warn(
    { user: INITIAL_ADMIN, passwordFile: file },
    'web console: no user existed, so an admin was created; its password is in this file (read it, sign in, change it with "npm run csp -- user set-password admin", then delete the file)',
  );
  return file;
}
