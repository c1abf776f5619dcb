import type { Pool, PoolClient } from './pool';
import type { Role } from '../client/console/access';

type Queryable = Pool | PoolClient;

export interface SessionUser {
  userId: number;
  username: string;
  role: Role;
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export async function createSession(
  db: Queryable,
  s: { tokenHash: string; userId: number; idleSeconds: number; remoteAddr: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO console_session (token_hash, user_id, expires_at, remote_addr) VALUES ($1, $2, now() + make_interval(secs => $3), $4)`,
    [s.tokenHash, s.userId, s.idleSeconds, s.remoteAddr],
  );
}

/**
 * The live session for a token hash, its idle expiry pushed forward. A session also ends
 * `maxSeconds` after it began, however active.
 */
export async function touchSession(
  db: Queryable,
  tokenHash: string,
  idleSeconds: number,
  maxSeconds: number,
): Promise<SessionUser | null> {
  const res = await db.query<{ user_id: number; username: string; role: Role }>(
    `UPDATE console_session s SET last_seen_at = now(), expires_at = now() + make_interval(secs => $2)
       FROM console_user u
      WHERE s.token_hash = $1 AND u.id = s.user_id AND s.expires_at > now() AND s.created_at > now() - make_interval(secs => $3)
      RETURNING s.user_id, u.username, u.role`,
    [tokenHash, idleSeconds, maxSeconds],
  );
  const r = res.rows[0];
  return r ? { userId: r.user_id, username: r.username, role: r.role } : null;
}

export async function deleteSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('DELETE FROM console_session WHERE token_hash = $1', [tokenHash]);
}

export async function deleteExpiredSessions(db: Queryable, maxSeconds: number): Promise<number> {
  const res = await db.query(
    'DELETE FROM console_session WHERE expires_at <= now() OR created_at <= now() - make_interval(secs => $1)',
    [maxSeconds],
  );
  return res.rowCount ?? 0;
}

/** A one-time message for the next page (post, redirect, get). */
export async function setFlash(db: Queryable, tokenHash: string, flash: Flash): Promise<void> {
  await db.query('UPDATE console_session SET flash = $2 WHERE token_hash = $1', [tokenHash, flash]);
}

export async function takeFlash(db: Queryable, tokenHash: string): Promise<Flash | null> {
  const res = await db.query<{ flash: Flash | null }>(
    `UPDATE console_session s SET flash = NULL FROM (SELECT token_hash, flash FROM console_session WHERE token_hash = $1 AND flash IS NOT NULL FOR UPDATE) old
      WHERE s.token_hash = old.token_hash RETURNING old.flash`,
    [tokenHash],
  );
  return res.rows[0]?.flash ?? null;
}
