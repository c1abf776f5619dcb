import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { PROJECT_ROOT } from '../config';
import { freePort } from './support/ports';
import { promptHidden, readClientSecret } from '../client/secret-input';

const clientId = '8db0c7a2-3f4e-4b1a-9c2d-9155086a1b2c';
const secret = '0123456789abcdef0123456789abcdef';

/** The CLI with nothing running: no database, no Temporal on the ports it would use. */
async function csp(args: string[], env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'csp-cli-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      ...env,
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('provider add, nothing running: swapped credentials are reported as swapped before any connection', async () => {
  const r = await csp(['provider', 'add', '--name', 'Harbour IT', '--client-id', secret], {
    RHIPE_CLIENT_SECRET: clientId,
  });
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /look swapped/);
  assert.ok(!r.err.includes(clientId) && !r.err.includes(secret), 'no credential echoed');
});

test('provider add, nothing running: a well-formed pair is told to start the system first', async () => {
  const r = await csp(['provider', 'add', '--name', 'Harbour IT', '--client-id', clientId], {
    RHIPE_CLIENT_SECRET: secret,
  });
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /start the system first/);
});

test('the client secret is never taken from the command line', async () => {
  const r = await csp(['provider', 'add', '--name', 'Harbour IT', '--client-id', clientId, '--client-secret', secret]);
  assert.equal(r.code, 2, r.err);
  assert.match(
    r.err,
    /--client-secret is not accepted: a secret on the command line is shown by npm and in the process list/,
  );
  const help = await csp(['provider', 'add', '--help']);
  assert.doesNotMatch(help.out, /--client-secret </);
  assert.match(help.out, /--client-secret-env/);
  const none = await csp(['provider', 'add', '--name', 'Harbour IT', '--client-id', clientId]);
  assert.equal(none.code, 2);
  assert.match(none.err, /no client secret: set RHIPE_CLIENT_SECRET/);
});

test('the secret from a named variable, from stdin, or from the default variable', async () => {
  const io = (env: Record<string, string>) => ({ env, stdin: process.stdin, stderr: process.stderr });
  assert.equal(await readClientSecret({ clientSecretEnv: 'MY_SECRET' }, io({ MY_SECRET: ` ${secret}\n` })), secret);
  assert.equal(await readClientSecret({}, io({ RHIPE_CLIENT_SECRET: secret })), secret);
  await assert.rejects(readClientSecret({ clientSecretEnv: 'MISSING' }, io({})), /MISSING is not set/);
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "require('./client/secret-input').readClientSecret({ clientSecretStdin: true }).then((s) => process.stdout.write(s.length + ':' + (s === process.env.EXPECTED)))",
    ],
    {
      cwd: PROJECT_ROOT,
      input: `${secret}\n`,
      encoding: 'utf8',
      env: { ...process.env, EXPECTED: secret },
    },
  );
  assert.equal(r.stdout, '32:true', r.stderr);
});

test('on a terminal the secret is asked for without echo', async () => {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode(this: { isRaw: boolean }, on: boolean) {
      this.isRaw = on;
      return this;
    },
  });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  const answer = promptHidden('secret: ', input as unknown as NodeJS.ReadStream, output);
  input.write('0123x\u007f456789abcdef0123456789abcdef\r');
  assert.equal(await answer, secret);
  assert.equal(shown, 'secret: \n');
  assert.equal(input.isRaw, false, 'terminal mode restored');
});
