import { isGuid } from './guid';
import { serviceSuggester, type ServiceCandidate } from './service-suggestion';
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
  if (!providerId || !reason || rest.length === 0)
    throw new Error(`"${groupKey}" is not a quarantine group key (provider|reason|tenant)`);
  return { providerId, reason, tenantRef: rest.join('|') };
}

/**
 * Allocation bills lines to a service an admin names. A line that is malformed or a revision of a
 * billed line is not a question of "which service": it is written off, or cleansed once the
 * carrier corrects it.
 */
export function allocationRefusal(reason: string): string | null {
  if (reason === 'INVALID_RECORD' || reason === 'DUPLICATE_USAGE') {
    return `lines quarantined as ${reason} cannot be billed by allocation: write them off, or cleanse them once the carrier corrects them`;
  }
  return null;
}

/** The allocated service must exist and be the same provider's. `owner` is the service's provider, null when there is no such service. */
export function allocationTargetProblem(serviceId: string, owner: string | null, providerId: string): string | null {
  if (owner === null) return `service ${serviceId} does not exist`;
  if (owner !== providerId) return `service ${serviceId} belongs to another provider`;
  return null;
}

/**
 * Allocating a group of unknown-tenant lines also remembers "this tenant is that service", so the
 * tenant's later lines are identified without an admin (domain.md: allocate identifies "every
 * record of the same tenant identifier"). Only a real tenant GUID can be remembered.
 */
export function allocationIdentifiesTenant(parts: GroupKeyParts): boolean {
  return parts.reason === 'NON_EXISTENT_SERVICE' && isGuid(parts.tenantRef);
}

/** How the quarantine list can be sorted, each way largest (oldest) first. */
export const QUARANTINE_SORTS = ['amount', 'age', 'lines'] as const;
export type QuarantineSort = (typeof QUARANTINE_SORTS)[number];

export function isQuarantineSort(v: string): v is QuarantineSort {
  return (QUARANTINE_SORTS as readonly string[]).includes(v);
}

/**
 * A bulk allocation names one service, so its groups must all be one provider's: the refusal
 * when they are not (null when they are).
 */
export function bulkAllocationProblem(groupKeys: readonly string[]): string | null {
  const providers = [...new Set(groupKeys.map((k) => parseGroupKey(k).providerId))];
  if (providers.length <= 1) return null;
  return `allocating several groups at once needs groups of one provider; the checked groups belong to ${providers.length} providers (${providers.join(', ')}): filter by provider first`;
}

/** What was fixed, so that lines which failed for that reason may now pass. */
export type AutoCleanseTrigger =
  | { kind: 'serviceCreated'; tenantId: string }
  | { kind: 'rateAdded'; productId: string | null }
  | { kind: 'serviceReactivated'; serviceId: string };

/** The quarantined lines a fix may release: one reason, narrowed to the tenant, product or service fixed. */
export interface CleanseSelection {
  reason: QuarantineReason;
  tenantId: string | null;
  /** null with NO_RATE_CARD: a default markup rates every product. */
  productId: string | null;
  serviceId: string | null;
}

/** Which trigger cleanses which reason: a new service → NON_EXISTENT_SERVICE, a rate → NO_RATE_CARD, a reactivation → SERVICE_INACTIVE. */
export function linesReleasedBy(trigger: AutoCleanseTrigger): CleanseSelection {
  switch (trigger.kind) {
    case 'serviceCreated':
      return { reason: 'NON_EXISTENT_SERVICE', tenantId: trigger.tenantId, productId: null, serviceId: null };
    case 'rateAdded':
      return { reason: 'NO_RATE_CARD', tenantId: null, productId: trigger.productId, serviceId: null };
    case 'serviceReactivated':
      return { reason: 'SERVICE_INACTIVE', tenantId: null, productId: null, serviceId: trigger.serviceId };
  }
}

/** The note the audit trail carries for an auto-cleanse. */
export function describeTrigger(trigger: AutoCleanseTrigger): string {
  switch (trigger.kind) {
    case 'serviceCreated':
      return `service created for tenant ${trigger.tenantId}`;
    case 'rateAdded':
      return `rate added${trigger.productId ? ` for product ${trigger.productId}` : ' (default markup)'}`;
    case 'serviceReactivated':
      return `service ${trigger.serviceId} reactivated`;
  }
}

/**
 * For lines of an unknown tenant: the provider's service that most resembles it (same tenant
 * domain or customer name), ranked as the console's allocation picker ranks them.
 */
export function suggestService(
  group: { reason: string; customer: string | null; domain: string | null },
  services: ServiceCandidate[],
): { id: string; score: number } | null {
  return serviceSuggestions(services)(group);
}

/** suggestService for many groups of one provider: the services' names are prepared once. */
export function serviceSuggestions(
  services: ServiceCandidate[],
): (group: { reason: string; customer: string | null; domain: string | null }) => { id: string; score: number } | null {
  const best = serviceSuggester(services);
  return (group) => {
    if (group.reason !== 'NON_EXISTENT_SERVICE') return null;
    const suggested = best({ customer: group.customer, domain: group.domain });
    return suggested ? { id: suggested.id, score: suggested.score } : null;
  };
}
