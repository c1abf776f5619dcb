import type { QuarantineReason } from './rating';

/**
 * A quarantine group is one provider's lines with one reason and one tenant identifier
 * (domain.md: "sees the records of one tenant identifier grouped"). Its key reads as that:
 * `provider|REASON|tenant`.
 */
export interface GroupKeyParts {
  providerId: string;
  reason: string;
  tenantRef: string;
}

export function quarantineGroupKey(providerId: string, reason: QuarantineReason, tenantRef: string | null): string {
  // Tenant identifiers of invalid lines can be anything: keep the key readable and unambiguous.
  const tenant = tenantRef ? tenantRef.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 100) : 'no-tenant';
  return `${providerId}|${reason}|${tenant}`;
}

export function parseGroupKey(groupKey: string): GroupKeyParts {
  const [providerId, reason, ...rest] = groupKey.split('|');
  if (!providerId || !reason || rest.length === 0) throw new Error(`"${groupKey}" is not a quarantine group key (provider|reason|tenant)`);
  return { providerId, reason, tenantRef: rest.join('|') };
}
