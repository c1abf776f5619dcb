import { inTransaction, type Pool } from '../db/pool';
import type { ServiceRow } from '../db/services';
import { customerContact, setAdminContact } from '../db/customer-contacts';
import { recordAudit, type AuditSource } from '../db/audit-events';
import { customerKey } from '../core/billing-report';
import {
  addressProblem,
  emailProblem,
  effectiveContact,
  type CustomerContact,
  type PostalAddress,
} from '../core/contact';

/** A contact change refused for its input (a bad email, an unbounded address): nothing changed. */
export class ContactRefused extends Error {
  override name = 'ContactRefused';
}

/** The contact on a tenant's invoices: its customer's (every tenant of the customer shares it). */
export interface TenantContact {
  customerKey: string;
  contact: CustomerContact;
  /** Where each part comes from. */
  emailFrom: 'admin' | 'carrier' | null;
  addressFrom: 'admin' | 'carrier' | null;
  /** What the carrier gives, and what an admin set (each null when none). */
  carrier: CustomerContact | null;
  admin: CustomerContact | null;
  adminUpdatedBy: string | null;
  adminUpdatedAt: Date | null;
}

export async function tenantContact(db: Pool, s: ServiceRow): Promise<TenantContact> {
  const key = customerKey({ customerId: s.customer_id, serviceId: s.id });
  const stored = await customerContact(db, s.provider_id, key);
  const from = (admin: unknown, carrier: unknown) => (admin ? 'admin' : carrier ? 'carrier' : null);
  return {
    customerKey: key,
    contact: effectiveContact(stored?.carrier ?? null, stored?.admin ?? null),
    emailFrom: from(stored?.admin?.email, stored?.carrier?.email),
    addressFrom: from(stored?.admin?.address, stored?.carrier?.address),
    carrier: stored?.carrier ?? null,
    admin: stored?.admin ?? null,
    adminUpdatedBy: stored?.adminUpdatedBy ?? null,
    adminUpdatedAt: stored?.adminUpdatedAt ?? null,
  };
}

/**
 * Sets (or with null clears, so the carrier's applies) the email and/or postal address an admin
 * gives for a tenant's customer, checked first; audited with who, old and new.
 */
export async function setTenantContact(
  db: Pool,
  s: ServiceRow,
  change: { email?: string | null; address?: PostalAddress | null },
  actor: { by: string; source: AuditSource; detail?: string; remoteAddr?: string },
): Promise<TenantContact> {
  if (change.email === undefined && change.address === undefined)
    throw new ContactRefused('give an email, an address, or both (or clear them)');
  const email = change.email?.trim();
  const problem = (email ? emailProblem(email) : null) ?? (change.address ? addressProblem(change.address) : null);
  if (problem) throw new ContactRefused(problem);
  const key = customerKey({ customerId: s.customer_id, serviceId: s.id });
  // The change and its audit row commit together.
  await inTransaction(db, async (tx) => {
    const { before, after } = await setAdminContact(
      tx,
      s.provider_id,
      key,
      {
        ...(change.email !== undefined ? { email: email || null } : {}),
        ...(change.address !== undefined ? { address: change.address } : {}),
      },
      actor.by,
    );
    await recordAudit(tx, {
      actor: actor.by,
      source: actor.source,
      kind: 'contact.set',
      providerId: s.provider_id,
      subject: `${s.id} (${s.customer_name ?? s.tenant_domain ?? key})`,
      oldValue: before?.admin ?? null,
      newValue: after.admin,
      detail: actor.detail ?? null,
      remoteAddr: actor.remoteAddr ?? null,
    });
  });
  return tenantContact(db, s);
}
