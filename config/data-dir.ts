import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The data folder (DATA_DIR) holds passwords, the dev encryption key, logs, PostgreSQL's data and
 * Temporal's SQLite database: nobody but the user running the system may read any of it.
 *
 * Its mode is 0700, with one exception: run as root, the embedded PostgreSQL runs as the
 * `postgres` user (db/embedded.ts), which must pass through the data folder to reach its own
 * `pg/` folder. Then the folder is 0711: others may pass through it but not list it, and every
 * file in it is 0600 (root's), so they can open nothing but what they own (`pg/`, 0700, the
 * postgres user's).
 */
export function dataDirMode(postgresRunsAsPostgresUser = rootWithPostgresUser()): number {
  return postgresRunsAsPostgresUser ? 0o711 : 0o700;
}

function rootWithPostgresUser(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return spawnSync('id', ['-u', 'postgres']).status === 0;
}

/** The folders below DATA_DIR that we write (PostgreSQL's `pg/` keeps its own modes). */
const OUR_FOLDERS = ['temporal', 'console'];

/**
 * Creates the data folder private, or makes an existing one so: the folder's mode, and no file we
 * write in it (passwords, keys, logs, the lock, the workflow bundle, Temporal's SQLite files)
 * readable or writable by group or others.
 */
export function makeDataDirPrivate(dir: string, mode = dataDirMode()): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode });
    chmodSync(dir, mode);
  } else restrictMode(dir, mode);
  tighten(dir, false);
  for (const sub of OUR_FOLDERS) {
    const folder = path.join(dir, sub);
    if (!existsSync(folder)) continue;
    chmodSync(folder, 0o700);
    tighten(folder, true);
  }
}

/** Takes away what `mode` does not allow; never adds (a folder only its owner can enter stays so). */
export function restrictMode(file: string, mode: number): void {
  const current = statSync(file).mode & 0o777;
  if ((current & mode) !== current) chmodSync(file, current & mode);
}

/** Files (and, when `deep`, folders) lose every group and other permission bit. */
export function tighten(dir: string, deep: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile()) {
      const st = statSync(full);
      if (st.mode & 0o077) chmodSync(full, st.mode & 0o700);
    } else if (deep && entry.isDirectory()) {
      chmodSync(full, 0o700);
      tighten(full, true);
    }
  }
}
