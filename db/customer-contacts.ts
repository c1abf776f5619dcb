import type { Pool, PoolClient } from './pool';
import type { CustomerContact, PostalAddress } from '../core/contact';

type Queryable = Pool | PoolClient;

export interface StoredContact {
  customerKey: string;
  carrier: CustomerContact | null;
  admin: CustomerContact | null;
  adminUpdatedBy: string | null;
  adminUpdatedAt: Date | null;
}

interface Row {
  customer_key: string;
  carrier_email: string | null;
  carrier_address: PostalAddress | null;
  admin_email: string | null;
  admin_address: PostalAddress | null;
  admin_updated_by: string | null;
  admin_updated_at: Date | null;
}

const contactOf = (email: string | null, address: PostalAddress | null): CustomerContact | null =>
  email || address ? { email, address } : null;

const toStored = (r: Row): StoredContact => ({
  customerKey: r.customer_key,
  carrier: contactOf(r.carrier_email, r.carrier_address),
  admin: contactOf(r.admin_email, r.admin_address),
  adminUpdatedBy: r.admin_updated_by,
  adminUpdatedAt: r.admin_updated_at,
});

/** The carrier's contacts as listed now (an admin's stay as they are). */
export async function recordCarrierContacts(
  db: Queryable,
  providerId: string,
  contacts: ReadonlyArray<{ customerKey: string; contact: CustomerContact | null }>,
): Promise<void> {
  if (contacts.length === 0) return;
  await db.query(
    `INSERT INTO customer_contact (provider_id, customer_key, carrier_email, carrier_address, carrier_seen_at)
     SELECT $1, c->>'customerKey', c->'contact'->>'email', c->'contact'->'address', now() FROM jsonb_array_elements($2::jsonb) c
     ON CONFLICT (provider_id, customer_key) DO UPDATE
       SET carrier_email = EXCLUDED.carrier_email, carrier_address = EXCLUDED.carrier_address, carrier_seen_at = now()`,
    [providerId, JSON.stringify(contacts.map((c) => ({ customerKey: c.customerKey, contact: c.contact ?? {} })))],
  );
}

/**
 * Sets an admin's email and/or address for a customer (a field left undefined keeps its value;
 * null clears it, so the carrier's applies again). Returns the contact before and after.
 */
export async function setAdminContact(
  db: Queryable,
  providerId: string,
  customerKey: string,
  change: { email?: string | null; address?: PostalAddress | null },
  by: string,
): Promise<{ before: StoredContact | null; after: StoredContact }> {
  const before = await customerContact(db, providerId, customerKey);
  const res = await db.query<Row>(
    `INSERT INTO customer_contact (provider_id, customer_key, admin_email, admin_address, admin_updated_by, admin_updated_at)
     VALUES ($1, $2, $4, $6::jsonb, $7, now())
     ON CONFLICT (provider_id, customer_key) DO UPDATE
       SET admin_email = CASE WHEN $3 THEN $4 ELSE customer_contact.admin_email END,
           admin_address = CASE WHEN $5 THEN $6::jsonb ELSE customer_contact.admin_address END,
           admin_updated_by = $7, admin_updated_at = now()
     RETURNING *`,
    [
      providerId,
      customerKey,
      change.email !== undefined,
      change.email ?? null,
      change.address !== undefined,
      change.address ? JSON.stringify(change.address) : null,
      by,
    ],
  );
  return { before, after: toStored(res.rows[0]!) };
}

export async function customerContact(
  db: Queryable,
  providerId: string,
  customerKey: string,
): Promise<StoredContact | null> {
  const res = await db.query<Row>('SELECT * FROM customer_contact WHERE provider_id = $1 AND customer_key = $2', [
    providerId,
    customerKey,
  ]);
  return res.rows[0] ? toStored(res.rows[0]) : null;
}

/** The stored contacts of these customers, by customer key. */
export async function customerContacts(
  db: Queryable,
  providerId: string,
  customerKeys: readonly string[],
): Promise<Map<string, StoredContact>> {
  const res = await db.query<Row>(
    'SELECT * FROM customer_contact WHERE provider_id = $1 AND customer_key = ANY($2::text[])',
    [providerId, [...customerKeys]],
  );
  return new Map(res.rows.map((r) => [r.customer_key, toStored(r)]));
}
