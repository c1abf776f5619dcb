import type { Pool, PoolClient } from './pool';
import type { Role } from '../client/console/access';

type Queryable = Pool | PoolClient;

export interface ConsoleUser {
  id: number;
  username: string;
  role: Role;
  created_at: Date;
  password_changed_at: Date;
}

/** Never selected with the user: only the login check reads the hash. */
const COLUMNS = 'id, username, role, created_at, password_changed_at';

export class DuplicateUserError extends Error {
  override name = 'DuplicateUserError';
}

export async function insertUser(
  db: Queryable,
  u: { username: string; passwordHash: string; role: Role },
): Promise<ConsoleUser> {
  const res = await db.query<ConsoleUser>(
    `INSERT INTO console_user (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING ${COLUMNS}`,
    [u.username, u.passwordHash, u.role],
  );
  if (res.rows.length === 0) throw new DuplicateUserError(`user "${u.username}" already exists`);
  return res.rows[0]!;
}

/** The first start's admin: inserted only while no user exists (two starters at once: one wins). */
export async function insertFirstUser(
  db: Queryable,
  u: { username: string; passwordHash: string; role: Role },
): Promise<ConsoleUser | null> {
  const res = await db.query<ConsoleUser>(
    `INSERT INTO console_user (username, password_hash, role)
     SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM console_user)
     ON CONFLICT (username) DO NOTHING RETURNING ${COLUMNS}`,
    [u.username, u.passwordHash, u.role],
  );
  return res.rows[0] ?? null;
}

export async function listUsers(db: Queryable): Promise<ConsoleUser[]> {
  return (await db.query<ConsoleUser>(`SELECT ${COLUMNS} FROM console_user ORDER BY username`)).rows;
}

export async function getUser(db: Queryable, username: string): Promise<ConsoleUser | null> {
  return (
    (await db.query<ConsoleUser>(`SELECT ${COLUMNS} FROM console_user WHERE username = $1`, [username])).rows[0] ?? null
  );
}

export async function getPasswordHash(
  db: Queryable,
  username: string,
): Promise<{ user: ConsoleUser; hash: string } | null> {
  const res = await db.query<ConsoleUser & { password_hash: string }>(
    `SELECT ${COLUMNS}, password_hash FROM console_user WHERE username = $1`,
    [username],
  );
  const row = res.rows[0];
  if (!row) return null;
  const { password_hash: hash, ...user } = row;
  return { user, hash };
}

/** A new password ends every session of the user (a stolen cookie stops working). */
export async function setPasswordHash(db: Queryable, username: string, passwordHash: string): Promise<boolean> {
  const res = await db.query<{ id: number }>(
    'UPDATE console_user SET password_hash = $2, password_changed_at = now() WHERE username = $1 RETURNING id',
    [username, passwordHash],
  );
  if (res.rows.length === 0) return false;
  await db.query('DELETE FROM console_session WHERE user_id = $1', [res.rows[0]!.id]);
  return true;
}

export async function setUserRole(db: Queryable, username: string, role: Role): Promise<boolean> {
  const res = await db.query('UPDATE console_user SET role = $2 WHERE username = $1', [username, role]);
  return (res.rowCount ?? 0) > 0;
}

/** Sessions go with the user (ON DELETE CASCADE). */
export async function deleteUser(db: Queryable, username: string): Promise<boolean> {
  const res = await db.query('DELETE FROM console_user WHERE username = $1', [username]);
  return (res.rowCount ?? 0) > 0;
}

export async function countAdmins(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM console_user WHERE role = 'admin'`)).rows[0]!.n;
}
