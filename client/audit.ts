import type { Command } from '@commander-js/extra-typings';
import {
  providerOfTarget,
  recordScopeOutcome,
  setProcessAuditScope,
  type AuditOutcome,
  type AuditEventRow,
  type AuditScope,
} from '../db/audit-events';
import type { Pool } from '../db/pool';
import { osUserName } from './actor';
import { UserError } from './errors';
import { DEFAULT_SECRET_ENV } from './secret-input';

/**
 * Which `csp` commands change something, and so land in the audit log. Everything does except
 * what only reads: a command named like a listing, or one of the paths below. A new command is
 * audited unless it says otherwise here, so nobody has to remember to audit it.
 */
const READING_NAMES = new Set(['list', 'show', 'describe', 'settings', 'recent', 'report', 'audit']);
const READING_PATHS = new Set(['rates.export']);
/** Commands that change something only with an option; without it they preview. */
const CHANGES_ONLY_WITH: Record<string, (opts: Record<string, unknown>) => boolean> = {
  'billing.rerate': (o) => o.apply === true,
};

/** `rates set` → `rates.set`. */
export function commandPath(command: Command<unknown[], Record<string, unknown>>): string {
  const names: string[] = [];
  for (let c: typeof command | null = command; c?.parent; c = c.parent as typeof command | null)
    names.unshift(c.name());
  return names.join('.');
}

export function changesSomething(path: string, opts: Record<string, unknown>): boolean {
  const name = path.split('.').at(-1) ?? path;
  if (READING_NAMES.has(name) || READING_PATHS.has(path)) return false;
  // A preview shows what a command would do, and does nothing (`tenant cancel --preview`).
  if (opts.preview === true || opts.dryRun === true) return false;
  return CHANGES_ONLY_WITH[path]?.(opts) ?? true;
}

/** An option whose value may be a secret (`--client-secret`, a password, a token, a key): never recorded. */
const SECRET_NAME = /secret|passw|token|credential|csrf|api-?key|private-?key/i;
const REDACTED = '[not recorded]';
/** Options that say how to print, not what to do. */
const PRESENTATION = new Set(['json', 'csv']);

/** Named values for an audit row's details, those that may be secret replaced (booleans say only "given"). */
export function withoutSecrets(values: Array<[string, unknown]>): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const [name, value] of values) {
    if (value === undefined || PRESENTATION.has(name)) continue;
    details[name] = SECRET_NAME.test(name) && typeof value !== 'boolean' ? REDACTED : value;
  }
  return details;
}

/** What a command was given, for the audit row: its arguments and options, secrets left out. */
export function commandDetails(
  argNames: string[],
  args: unknown[],
  opts: Record<string, unknown>,
): Record<string, unknown> {
  return withoutSecrets([...argNames.map((name, i): [string, unknown] => [name, args[i]]), ...Object.entries(opts)]);
}

/** Secret values this process can see (so that none slips into a recorded error message). */
function secretValues(opts: Record<string, unknown>): string[] {
  const fromOptions = Object.entries(opts)
    .filter(([name, v]) => SECRET_NAME.test(name) && typeof v === 'string')
    .map(([, v]) => v as string);
  const envName = typeof opts.clientSecretEnv === 'string' ? opts.clientSecretEnv : DEFAULT_SECRET_ENV;
  const fromEnv = process.env[envName];
  return [...fromOptions, ...(fromEnv ? [fromEnv] : [])].filter((s) => s.trim().length >= 4);
}

function scrubbed(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => t.split(s).join(REDACTED), text);
}

/** The open scope, with what names its provider (`--provider`, else the target) and the secrets to keep out. */
let current: { scope: AuditScope; providerRef: string | null; secrets: string[] } | undefined;

/**
 * Before a command runs (commander's preAction hook): opens its audit scope when it changes
 * something. The actor is `--by` where the command has it, else the OS user; the OS user always.
 */
export function openCommandAudit(command: Command<unknown[], Record<string, unknown>>): void {
  const path = commandPath(command);
  const opts = command.opts();
  if (!changesSomething(path, opts)) return;
  const argNames = command.registeredArguments.map((a) => a.name());
  const args = command.processedArgs;
  const osUser = osUserName();
  const by = typeof opts.by === 'string' && opts.by.trim() !== '' ? opts.by.trim() : null;
  const named = [args[0], opts.provider, opts.name].find((v): v is string => typeof v === 'string') ?? null;
  // A product rule's target is its product, applied or refused alike (the provider is its own column).
  const target = typeof opts.product === 'string' ? opts.product : named;
  const scope: AuditScope = {
    source: 'cli',
    action: path,
    actor: by ?? osUser,
    osUser,
    target,
    details: commandDetails(argNames, args, opts),
    recorded: false,
  };
  const secrets = secretValues(opts);
  for (const [name, value] of Object.entries(scope.details!))
    if (typeof value === 'string') scope.details![name] = scrubbed(value, secrets);
  const providerRef = typeof opts.provider === 'string' ? opts.provider : named;
  current = { scope, providerRef, secrets };
  setProcessAuditScope(scope);
}

/**
 * After the command: its row, APPLIED, or REFUSED with the error it ended with. Recording never
 * changes the command's own result: a log that cannot be written (the database is down, which is
 * often why the command failed) is said on stderr.
 */
export async function closeCommandAudit(db: () => Promise<Pool>, outcome: AuditOutcome, err?: unknown): Promise<void> {
  if (!current) return;
  const { scope, providerRef, secrets } = current;
  current = undefined;
  setProcessAuditScope(undefined);
  // The database itself is what failed: recording would only wait for it again.
  if (err instanceof UserError && err.exitCode === 3 && /PostgreSQL|database/i.test(err.message)) return;
  try {
    const pool = await db();
    scope.providerId ??= providerRef ? await providerOfTarget(pool, providerRef) : null;
    const reason =
      err === undefined
        ? null
        : scrubbed(err instanceof Error ? err.message : (JSON.stringify(err) ?? 'failed'), secrets);
    await recordScopeOutcome(pool, scope, outcome, reason);
  } catch (failure) {
    if (outcome === 'APPLIED')
      process.stderr.write(`csp: done, but not recorded in the audit log: ${(failure as Error).message}\n`);
  }
}

/** An audit row's details: what was asked, or for rows written before there were details, what they kept. */
export function detailsOf(row: AuditEventRow): Record<string, unknown> | null {
  if (row.details) return row.details;
  const kept = Object.entries({ detail: row.detail, old: row.old_value, new: row.new_value, address: row.remote_addr });
  const present = kept.filter(([, v]) => v !== null && v !== undefined);
  return present.length > 0 ? Object.fromEntries(present) : null;
}

/** Details as people read them: "key: value" pairs, objects written out briefly. */
export function detailPairs(details: Record<string, unknown> | null): Array<{ key: string; value: string }> {
  const shown = (v: unknown): string =>
    v === null || v === undefined
      ? '—'
      : typeof v === 'object'
        ? Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== null && x !== undefined)
            .map(([k, x]) => `${k} ${shown(x)}`)
            .join(', ')
        : `${v as string | number | boolean}`;
  return Object.entries(details ?? {}).map(([key, value]) => ({ key, value: shown(value) }));
}

/** One event as `csp audit --json` prints it. */
export function auditEventJson(row: AuditEventRow) {
  return {
    at: row.at.toISOString(),
    actor: row.actor,
    osUser: row.os_user,
    principal: row.principal,
    source: row.source,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    reason: row.reason,
    details: detailsOf(row),
  };
}
