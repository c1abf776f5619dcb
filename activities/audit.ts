import { recordAudit, type AuditEventInput, type AuditSource } from '../db/audit-events';
import type { Pool, PoolClient } from '../db/pool';

/**
 * Who sent an admin request that reached a workflow: our CLI fills `osUser`, the console
 * `principal`, and each records the action in the audit log itself. A request with neither came
 * straight to Temporal (the Web UI's "Send signal", `temporal workflow signal|update`), or from
 * the system itself (`by: "system:…"`): the activity applying it records it.
 */
export function directRequestSource(req: { by?: unknown; osUser?: unknown; principal?: unknown }): AuditSource | null {
  const given = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  if (given(req.osUser) || given(req.principal)) return null;
  return typeof req.by === 'string' && req.by.startsWith('system:') ? 'system' : 'temporal';
}

/** Records a request that came straight to Temporal or from the system; nothing for one our clients record. */
export async function recordDirectRequest(
  db: Pool | PoolClient,
  req: { by?: unknown; osUser?: unknown; principal?: unknown },
  row: Omit<AuditEventInput, 'source' | 'actor'>,
): Promise<void> {
  const source = directRequestSource(req);
  if (!source) return;
  const actor = typeof req.by === 'string' && req.by.trim() !== '' ? req.by.trim().slice(0, 200) : '(unknown)';
  await recordAudit(db, { ...row, source, actor });
}

/** `writeOff` → `write-off`: actions are named as the CLI's commands are. */
export const kebabCase = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
