import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

/** Where an action came from: our CLI, the console, a signal or Update sent straight to Temporal, or the system itself. */
export type AuditSource = 'console' | 'cli' | 'temporal' | 'system';
export const AUDIT_SOURCES: readonly AuditSource[] = ['cli', 'console', 'temporal', 'system'];
export type AuditOutcome = 'APPLIED' | 'REFUSED';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['APPLIED', 'REFUSED'];

export interface AuditEventInput {
  actor: string;
  source: AuditSource;
  /** The domain's own name for what happened (`rate.set`, `login.failed`); `action` when not given. */
  kind?: string;
  /** What the admin asked for (`rates.set`, `quarantine.allocate`); the scope's, else `kind`. */
  action?: string;
  outcome?: AuditOutcome;
  /** Why it was refused. */
  reason?: string | null;
  target?: string | null;
  providerId?: string | null;
  /** What was asked, as given (never a secret): shown as a key: value list. */
  details?: Record<string, unknown> | null;
  osUser?: string | null;
  principal?: string | null;
  subject?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
  detail?: string | null;
  remoteAddr?: string | null;
}

export interface AuditEventRow {
  id: number;
  at: Date;
  actor: string;
  source: AuditSource;
  kind: string;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  details: Record<string, unknown> | null;
  os_user: string | null;
  principal: string | null;
  provider_id: string | null;
  subject: string | null;
  old_value: unknown;
  new_value: unknown;
  detail: string | null;
  remote_addr: string | null;
}

/**
 * One admin action under way (a CLI command, a console request): who, from where, what, on what.
 * A row written while it runs (by the code that made the change, e.g. a rate change with its old
 * and new rule) takes these fields and counts as the action's row; the scope's owner writes one
 * itself, with the outcome, only when none was written. One action, one row.
 */
export interface AuditScope {
  source: AuditSource;
  action: string;
  actor: string;
  osUser?: string | null;
  principal?: string | null;
  target?: string | null;
  providerId?: string | null;
  details?: Record<string, unknown> | null;
  remoteAddr?: string | null;
  recorded: boolean;
}

const scopes = new AsyncLocalStorage<AuditScope>();
/** The CLI runs one command per process: its scope is the process's. */
let processScope: AuditScope | undefined;

/** Runs `work` (and everything it starts) inside `scope` (the console: one per request). */
export function runInAuditScope<T>(scope: AuditScope, work: () => T): T {
  return scopes.run(scope, work);
}

export function setProcessAuditScope(scope: AuditScope | undefined): void {
  processScope = scope;
}

export function currentAuditScope(): AuditScope | undefined {
  return scopes.getStore() ?? processScope;
}

export async function recordAudit(db: Queryable, e: AuditEventInput): Promise<void> {
  const scope = currentAuditScope();
  const within = scope && scope.source === e.source ? scope : undefined;
  const action = e.action ?? within?.action ?? e.kind ?? 'unknown';
  await db.query(
    `INSERT INTO audit_event (actor, source, kind, action, target, outcome, reason, details, os_user, principal,
                              provider_id, subject, old_value, new_value, detail, remote_addr)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13::jsonb, $14::jsonb, $15, $16)`,
    [
      e.actor,
      e.source,
      e.kind ?? action,
      action,
      e.target ?? e.subject ?? within?.target ?? null,
      e.outcome ?? 'APPLIED',
      e.reason ?? null,
      json(e.details ?? within?.details),
      e.osUser ?? within?.osUser ?? null,
      e.principal ?? within?.principal ?? null,
      e.providerId ?? within?.providerId ?? null,
      e.subject ?? null,
      json(e.oldValue),
      json(e.newValue),
      e.detail ?? null,
      e.remoteAddr ?? within?.remoteAddr ?? null,
    ],
  );
  if (within) within.recorded = true;
}

/** The scope's own row, with its outcome, unless the code it ran wrote one (see AuditScope). */
export async function recordScopeOutcome(
  db: Queryable,
  scope: AuditScope,
  outcome: AuditOutcome,
  reason: string | null = null,
): Promise<void> {
  if (scope.recorded) return;
  const { recorded: _recorded, ...fields } = scope;
  await recordAudit(db, { ...fields, outcome, reason });
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/** The provider an action's target names: a provider (id, name or client id), a tenant, or a quarantine group key. */
export async function providerOfTarget(db: Queryable, target: string): Promise<string | null> {
  const ref = target.includes('|') ? target.split('|')[0]! : target;
  const res = await db.query<{ id: string }>(
    `(SELECT id FROM provider WHERE id = $1 OR lower(name) = lower($1) OR client_id = lower($1) ORDER BY (id = $1) DESC LIMIT 1)
     UNION ALL
     (SELECT provider_id FROM service WHERE id = $1 OR tenant_id = lower($1) OR lower(tenant_domain) = lower($1) LIMIT 1)
     LIMIT 1`,
    [ref],
  );
  return res.rows[0]?.id ?? null;
}

export interface AuditFilter {
  kinds?: string[];
  kindPrefix?: string;
  providerId?: string;
  since?: Date;
  /** The name given, the console user or the OS user. */
  actor?: string;
  /** An action (`rates.set`) or a family of them (`rates`). */
  action?: string;
  outcome?: AuditOutcome;
}

const ACTION = 'coalesce(action, kind)';

function where(f: AuditFilter): { sql: string; params: unknown[] } {
  const likeEscaped = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
  const params: unknown[] = [
    f.kinds ?? null,
    f.kindPrefix ? `${likeEscaped(f.kindPrefix)}%` : null,
    f.providerId ?? null,
    f.since ?? null,
    f.actor?.toLowerCase() ?? null,
    f.action ?? null,
    f.action ? `${likeEscaped(f.action)}.%` : null,
    f.outcome ?? null,
  ];
  return {
    sql: `WHERE ($1::text[] IS NULL OR kind = ANY($1)) AND ($2::text IS NULL OR kind LIKE $2)
            AND ($3::text IS NULL OR provider_id = $3) AND ($4::timestamptz IS NULL OR at >= $4)
            AND ($5::text IS NULL OR lower(actor) = $5 OR lower(principal) = $5 OR lower(os_user) = $5)
            AND ($6::text IS NULL OR ${ACTION} = $6 OR ${ACTION} LIKE $7)
            AND ($8::text IS NULL OR outcome = $8)`,
    params,
  };
}

export async function countAudit(db: Queryable, f: AuditFilter): Promise<number> {
  const w = where(f);
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event ${w.sql}`, w.params)).rows[0]!.n;
}

export async function listAudit(
  db: Queryable,
  f: AuditFilter,
  page: { offset: number; limit: number },
): Promise<AuditEventRow[]> {
  const w = where(f);
  const res = await db.query<AuditEventRow>(
    `SELECT id, at, actor, source, kind, ${ACTION} AS action, coalesce(target, subject) AS target, outcome, reason,
            details, os_user, principal, provider_id, subject, old_value, new_value, detail, remote_addr
       FROM audit_event ${w.sql} ORDER BY at DESC, id DESC OFFSET $9 LIMIT $10`,
    [...w.params, page.offset, page.limit],
  );
  return res.rows;
}

/** The actions and actors the log holds, for the filters' choices. */
export async function auditChoices(db: Queryable): Promise<{ actions: string[]; actors: string[] }> {
  const actions = await db.query<{ v: string }>(`SELECT DISTINCT ${ACTION} AS v FROM audit_event ORDER BY 1`);
  const actors = await db.query<{ v: string }>(
    `SELECT DISTINCT v FROM (SELECT actor AS v FROM audit_event UNION SELECT principal FROM audit_event) a WHERE v IS NOT NULL ORDER BY 1`,
  );
  return { actions: actions.rows.map((r) => r.v), actors: actors.rows.map((r) => r.v) };
}
