import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

export type AuditSource = 'console' | 'cli' | 'system';

export interface AuditEventInput {
  actor: string;
  source: AuditSource;
  kind: string;
  providerId?: string | null;
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
  provider_id: string | null;
  subject: string | null;
  old_value: unknown;
  new_value: unknown;
  detail: string | null;
  remote_addr: string | null;
}

export async function recordAudit(db: Queryable, e: AuditEventInput): Promise<void> {
  await db.query(
    `INSERT INTO audit_event (actor, source, kind, provider_id, subject, old_value, new_value, detail, remote_addr)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)`,
    [
      e.actor,
      e.source,
      e.kind,
      e.providerId ?? null,
      e.subject ?? null,
      json(e.oldValue),
      json(e.newValue),
      e.detail ?? null,
      e.remoteAddr ?? null,
    ],
  );
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export interface AuditFilter {
  kinds?: string[];
  kindPrefix?: string;
  providerId?: string;
}

function where(f: AuditFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [f.kinds ?? null, f.kindPrefix ? `${f.kindPrefix}%` : null, f.providerId ?? null];
  return {
    sql: 'WHERE ($1::text[] IS NULL OR kind = ANY($1)) AND ($2::text IS NULL OR kind LIKE $2) AND ($3::text IS NULL OR provider_id = $3)',
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
  const res = await db.query<AuditEventRow>(`SELECT * FROM audit_event ${w.sql} ORDER BY id DESC OFFSET $4 LIMIT $5`, [
    ...w.params,
    page.offset,
    page.limit,
  ]);
  return res.rows;
}
