import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from './pool';

type Queryable = Pool | PoolClient;

export interface ProviderRow {
  id: string;
  name: string;
  client_id: string;
  secret_ciphertext: string;
  currency: string;
  time_zone: string;
  cycle_times: string[];
  status: 'ACTIVE' | 'NEEDS_ATTENTION' | 'REMOVED';
  attention_reason: string | null;
  /** Set while the latest invoice reconciliation shows a difference: the figure. */
  invoice_attention: string | null;
  created_at: Date;
  /** Null until its first onboarding finished: `provider add` again continues it. */
  onboarded_at: Date | null;
}

/** What may leave this module towards logs, CLIs and workflows: never the ciphertext. */
export type ProviderView = Omit<ProviderRow, 'secret_ciphertext'>;

export function view(row: ProviderRow): ProviderView {
  const { secret_ciphertext: _omit, ...rest } = row;
  return rest;
}

export async function insertProvider(
  db: Queryable,
  p: {
    name: string;
    clientId: string;
    secretCiphertext: string;
    currency: string;
    timeZone: string;
    cycleTimes: string[];
  },
): Promise<ProviderView> {
  const id = `p-${randomUUID().slice(0, 8)}`;
  const res = await db.query<ProviderRow>(
    `INSERT INTO provider (id, name, client_id, secret_ciphertext, currency, time_zone, cycle_times)
     VALUES ($1, $2, lower($3), $4, upper($5), $6, $7) RETURNING *`,
    [id, p.name, p.clientId, p.secretCiphertext, p.currency, p.timeZone, p.cycleTimes],
  );
  return view(res.rows[0]!);
}

export async function getProvider(db: Queryable, idOrName: string): Promise<ProviderRow | null> {
  const res = await db.query<ProviderRow>(
    'SELECT * FROM provider WHERE id = $1 OR lower(name) = lower($1) OR client_id = lower($1) ORDER BY (id = $1) DESC LIMIT 2',
    [idOrName],
  );
  if (res.rows.length > 1 && res.rows[0]!.id !== idOrName)
    throw new Error(`"${idOrName}" names more than one provider: use its id`);
  return res.rows[0] ?? null;
}

export async function listProviders(db: Queryable, includeRemoved = false): Promise<ProviderView[]> {
  const res = await db.query<ProviderRow>(
    `SELECT * FROM provider ${includeRemoved ? '' : "WHERE status <> 'REMOVED'"} ORDER BY created_at, id`,
  );
  return res.rows.map(view);
}

export async function updateProviderSecret(
  db: Queryable,
  id: string,
  clientId: string,
  secretCiphertext: string,
): Promise<void> {
  await db.query(
    `UPDATE provider SET client_id = lower($2), secret_ciphertext = $3, status = CASE WHEN status = 'NEEDS_ATTENTION' THEN 'ACTIVE' ELSE status END,
            attention_reason = NULL, updated_at = now() WHERE id = $1`,
    [id, clientId, secretCiphertext],
  );
}

export async function setProviderAttention(db: Queryable, id: string, reason: string | null): Promise<void> {
  await db.query(
    `UPDATE provider SET status = CASE WHEN $2::text IS NULL THEN 'ACTIVE' ELSE 'NEEDS_ATTENTION' END, attention_reason = $2, updated_at = now()
      WHERE id = $1 AND status <> 'REMOVED'`,
    [id, reason],
  );
}

/** A provider that needed attention is active again (a cycle got through with its credentials). */
export async function clearProviderAttention(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE provider SET status = 'ACTIVE', attention_reason = NULL, updated_at = now() WHERE id = $1 AND status = 'NEEDS_ATTENTION'`,
    [id],
  );
}

export async function markProviderRemoved(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE provider SET status = 'REMOVED', removed_at = now(), updated_at = now() WHERE id = $1`, [id]);
}

export async function updateProviderSchedule(
  db: Queryable,
  id: string,
  timeZone: string,
  cycleTimes: string[],
): Promise<void> {
  await db.query('UPDATE provider SET time_zone = $2, cycle_times = $3, updated_at = now() WHERE id = $1', [
    id,
    timeZone,
    cycleTimes,
  ]);
}

/** A removed provider onboarded again (same client id): active, its history kept. */
export async function reinstateProvider(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE provider SET status = 'ACTIVE', removed_at = NULL WHERE id = $1`, [id]);
}

/** Every stored secret, sealed, for re-encryption with a new key. */
export async function listSealedSecrets(db: Queryable): Promise<Array<{ id: string; secretCiphertext: string }>> {
  const res = await db.query<{ id: string; secret_ciphertext: string }>('SELECT id, secret_ciphertext FROM provider');
  return res.rows.map((r) => ({ id: r.id, secretCiphertext: r.secret_ciphertext }));
}

/** Replaces a sealed secret only if it is still the one read (a concurrent change wins). */
export async function replaceSealedSecret(db: Queryable, id: string, previous: string, sealed: string): Promise<void> {
  await db.query(
    'UPDATE provider SET secret_ciphertext = $2, updated_at = now() WHERE id = $1 AND secret_ciphertext = $3',
    [id, sealed, previous],
  );
}
