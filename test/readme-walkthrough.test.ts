import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../config';
import { freePort } from './support/ports';

// The README's "Using it" block, taken from the README itself, run against a freshly started demo
// system; then the month-end walkthrough of docs/month-end.md, run by a shell as written; then the
// Temporal Web UI's page of a quarantine group, in a real Chromium.
const dataDir = path.join(PROJECT_ROOT, '.data', `walkthrough-${process.pid}`);
const OUTPUT = path.join(PROJECT_ROOT, 'test-output');
let env: NodeJS.ProcessEnv;
let system: ChildProcess | undefined;
let stderr = '';
let uiPort = 0;

before(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  uiPort = await freePort();
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(uiPort),
    EMBEDDED_PG_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    CONSOLE_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  for (const k of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'CYCLE_ONCE', 'RHIPE_IDENTITY_URL', 'RHIPE_API_URL'])
    delete env[k];
  system = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  system.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  system.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 300_000;
  while (!stdout.includes('\n')) {
    if (system.exitCode !== null) throw new Error(`demo exited early (${system.exitCode}): ${stderr.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`demo printed no summary: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

after(async () => {
  if (system && system.exitCode === null) {
    system.kill('SIGTERM');
    await new Promise((r) => {
      system!.once('exit', r);
      setTimeout(r, 30_000);
    });
    if (system.exitCode === null) system.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The commands of the README's "Using it" block, as written. */
function readmeCommands(): string[] {
  return shBlock('README.md', '## Using it');
}

/** Splits a shell line as sh would for these commands: VAR=value prefixes, words, double and single quotes. */
function shellWords(line: string): { vars: Record<string, string>; words: string[] } {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]!);
  const vars: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [k, ...v] = words.shift()!.split('=');
    vars[k!] = v.join('=');
  }
  return { vars, words };
}

function run(line: string): Promise<{ code: number; out: string; err: string }> {
  const { vars, words } = shellWords(line);
  assert.deepEqual(words.slice(0, 2), ['npm', 'run'], line);
  const rest = words.slice(2).filter((w) => w !== '--silent');
  const script = rest[0];
  const args = rest.slice(rest.indexOf('--') + 1);
  const entry =
    script === 'csp'
      ? 'client/cli.ts'
      : script === 'rate'
        ? 'client/rate.ts'
        : assert.fail(`unknown npm script in README: ${line}`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', entry, ...args],
      { cwd: PROJECT_ROOT, env: { ...env, ...vars, LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 180_000 },
      (err, out, errText) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errText }),
    );
  });
}

/** A key line each command must print (by its first words after "--"). */
const KEY_LINES: Array<[RegExp, RegExp]> = [
  [/provider list/, /Harbour IT Pty Ltd .*AUD/],
  [/provider show/, /Harbour IT Pty Ltd/],
  [/tenant list/, /northwindtraders\.onmicrosoft\.com/],
  [/tenant show/, /licence events/],
  [/tenant set-quantity/, /quantity set .* x 12/],
  [/tenant cancel/, /billing stops from 2026-12-01/],
  [/rates list/, /./],
  [/rates set/, /./],
  [/quarantine list/, /NON_EXISTENT_SERVICE/],
  [/quarantine show/, /carrierCharge: [\d,]+\.\d\d AUD/],
  [/quarantine allocate/, /allocate by alice: \d+ line\(s\); billed \d+/],
  [/quarantine write-off/, /writeOff by bob: \d+ line\(s\).*written off \d+/],
  [/schedule describe/, /runsAt: 06:00, 18:00 \(Australia\/Sydney\)/],
  [/schedule trigger/, /triggered/],
  [/cycle list/, /COMPLETED/],
  [/alerts list/, /./],
  [/rate --/, /"recordId"/],
  [/provider add/, /Reseller 3 Pty Ltd/],
];

test('every command of the README\'s "Using it" block runs as written against the demo', async () => {
  assert.match(stderr, /try onboarding a provider yourself/);
  assert.match(
    stderr,
    /"tryIt":"RHIPE_CLIENT_SECRET=\w+ npm run csp -- provider add --name \\"Reseller 3 Pty Ltd\\" --client-id [0-9a-f-]{36}"/,
  );
  assert.equal(stderr.split('try onboarding a provider yourself').length, 2, 'printed once');
  const commands = readmeCommands();
  assert.ok(commands.length >= 15, `${commands.length} commands`);
  for (const line of commands) {
    const r = await run(line);
    assert.equal(r.code, 0, `${line}\n${r.err}${r.out}`);
    const key = KEY_LINES.find(([which]) => which.test(line));
    assert.ok(key, `a key line is known for: ${line}`);
    assert.match(r.out, key[1], `${line}\n${r.out}`);
  }
});

/** A document's first ```sh block (after a heading), its command lines as written, without comments. */
function shBlock(file: string, after = ''): string[] {
  const whole = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  const text = whole.slice(whole.indexOf(after));
  const start = text.indexOf('```sh\n') + 6;
  return text
    .slice(start, text.indexOf('\n```', start))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** A key line each month-end command must print (by its words), and files it must write. */
const MONTH_END_KEY_LINES: Array<[RegExp, RegExp]> = [
  [/^PERIOD=/, /^$/],
  [/invoice reconcile .*--csv/, /^$/],
  [/invoice reconcile/, /invoice \S+ \(\d{4}-\d\d\): difference -?[\d.]+ AUD; \d+ MATCHED/],
  [/billing report/, /TOTAL\s.*\d\.\d\d\s/],
  [/billing configure/, /invoicePrefix: HIT/],
  [/billing export/, /^$/],
  [/period close/, /: CLOSED by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d [A-Z]/],
  [/^GROUP=/, /^$/],
  [/quarantine accept-revision/, /acceptRevision by alice: \d+ line\(s\); billed [1-9]/],
  [/period reopen/, /: OPEN by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d [A-Z]\S* \(/],
  [/period list/, /reopen\s+OPEN \(now\)\s+bob\s+customer disputed a line/],
  [/invoice list/, /INV-0-\d{4}-\d\d/],
];

test('every command of the month-end walkthrough (docs/month-end.md) runs as written against the demo', async () => {
  const commands = shBlock('docs/month-end.md');
  assert.ok(commands.length >= 10, `${commands.length} commands`);
  // One shell runs the block (its variables and pipes as a reader's would), each command after a
  // marker so its output can be checked; the files it writes land in a folder of its own.
  const work = path.join(dataDir, 'month-end');
  mkdirSync(work, { recursive: true });
  const script = ['set -euo pipefail', ...commands.flatMap((c, n) => [`echo "@@ ${n}"`, c])].join('\n');
  writeFileSync(path.join(work, 'walkthrough.sh'), script + '\n');
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
    execFile(
      'bash',
      ['walkthrough.sh'],
      {
        cwd: work,
        env: { ...env, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 600_000,
        maxBuffer: 20 * 1024 * 1024,
      },
      (err, out, errText) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errText }),
    ),
  );
  assert.equal(r.code, 0, `${r.err}\n${r.out.slice(-3000)}`);
  const outputs = r.out.split(/^@@ \d+\n/m).slice(1);
  assert.equal(outputs.length, commands.length);
  commands.forEach((line, n) => {
    const key = MONTH_END_KEY_LINES.find(([which]) => which.test(line));
    assert.ok(key, `a key line is known for: ${line}`);
    // Commands that write a file print nothing: the npm banner aside.
    const printed = outputs[n]!.replace(/^> .*\n/gm, '').trim();
    assert.match(printed, key[1], `${line}\n${printed}`);
  });
  const written = (prefix: string) =>
    readFileSync(
      path.join(work, readdirSync(work).find((f) => f.startsWith(prefix)) ?? assert.fail(`no ${prefix} file`)),
      'utf8',
    );
  const disputes = written('disputes-').split('\r\n');
  assert.equal(disputes[0], 'RecordId,class,customer,product,invoiced,received,difference');
  assert.ok(disputes.filter(Boolean).length > 1, 'the demo invoice has differing lines');
  const xero = written('hit-').split('\r\n');
  assert.match(xero[0]!, /^\*ContactName,EmailAddress,POAddressLine1,/);
  assert.match(xero.slice(1).join('\n'), /,accounts@\w+\.com\.au,/, "customers' emails from the carrier");
});

test('the Web UI page of a quarantine group shows its summary (real Chromium)', async () => {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  assert.ok(
    existsSync(executablePath),
    `${executablePath}: run bash scripts/setup.sh (it installs chromium when missing)`,
  );
  const group = 'p-'; // found below from the CLI's JSON
  const list = await run('npm run csp -- quarantine list --reason NO_RATE_CARD --json');
  const { groups } = JSON.parse(list.out) as { groups: Array<{ group: string }> };
  const key = groups[0]?.group ?? assert.fail(`no group to look at ${group}`);
  const workflowId = `quarantine:${key.split('|').join(':')}`;
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, {
      waitUntil: 'domcontentloaded',
      timeout: 120_000,
    });
    mkdirSync(OUTPUT, { recursive: true });
    try {
      // The page's "User Metadata" tab holds the static summary and details and the current details.
      await page.getByText('User Metadata', { exact: true }).first().click({ timeout: 120_000 });
      // The UI renders user metadata (markdown) in frames of its own: read every frame's text.
      const deadline = Date.now() + 120_000;
      while (!(await pageText(page)).includes('Quarantine group: NO_RATE_CARD')) {
        if (Date.now() > deadline) assert.fail('the summary did not appear on the page');
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await page.screenshot({ path: path.join(OUTPUT, 'web-ui-quarantine-group.png'), fullPage: true });
    }
    const text = await pageText(page);
    assert.match(text, /Quarantine group: NO_RATE_CARD, tenant /);
    assert.match(text, /writeOff/, 'the signals it takes are on the page');
  } finally {
    await browser.close();
  }
});

async function pageText(page: import('playwright-core').Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((f) =>
      f
        .locator('body')
        .innerText({ timeout: 5000 })
        .catch(() => ''),
    ),
  );
  return texts.join('\n');
}

test("the README's Web UI search example finds the quarantine groups it names (real Chromium)", async () => {
  // The query is taken from the README itself, so the example and this check cannot drift apart.
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const query =
    /`(CspCarrier = 'Rhipe - Microsoft' AND CspQuarantineReason = '[A-Z_]+')`/.exec(readme)?.[1] ??
    assert.fail('no Web UI search example in the README');
  const reason = /CspQuarantineReason = '([A-Z_]+)'/.exec(query)![1]!;
  const list = await run(`npm run csp -- quarantine list --reason ${reason} --json`);
  const expected = (JSON.parse(list.out) as { groups: Array<{ group: string }> }).groups.map(
    (g) => `quarantine:${g.group.split('|').join(':')}`,
  );
  assert.ok(expected.length > 0, `the demo has ${reason} groups`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, {
      waitUntil: 'domcontentloaded',
      timeout: 120_000,
    });
    mkdirSync(OUTPUT, { recursive: true });
    let text = '';
    try {
      const deadline = Date.now() + 120_000;
      while (!(text = await pageText(page)).includes(expected[0]!)) {
        if (Date.now() > deadline) assert.fail(`the search did not list ${expected[0]}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await page.screenshot({ path: path.join(OUTPUT, 'web-ui-search.png'), fullPage: true });
    }
    const listed = text.match(/quarantine:[^\s]+/g) ?? [];
    assert.ok(listed.length > 0);
    for (const id of listed) assert.ok(id.includes(`:${reason}:`), `only ${reason} groups are listed, not ${id}`);
  } finally {
    await browser.close();
  }
});
