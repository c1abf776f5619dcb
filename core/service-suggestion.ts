import { similarity } from './similarity';

export interface ServiceCandidate {
  id: string;
  tenant_domain: string | null;
  customer_name: string | null;
}

export const SUGGESTION_THRESHOLD = 0.5;

/**
 * The provider's services ordered for an allocation picker: most alike first (same tenant domain
 * or customer name, by letter-pair similarity), then by name. `suggested` is the first one when
 * it is alike enough to propose.
 */
export function rankServices<T extends ServiceCandidate>(names: { customer: string | null; domain: string | null }, services: T[]): { ranked: Array<T & { score: number }>; suggested: (T & { score: number }) | null } {
  const ranked = services
    .map((s) => ({ ...s, score: Math.max(similarity(names.domain ?? '', s.tenant_domain ?? ''), similarity(names.customer ?? '', s.customer_name ?? '')) }))
    .sort((a, b) => b.score - a.score || (a.customer_name ?? a.id).localeCompare(b.customer_name ?? b.id));
  const best = ranked[0];
  return { ranked, suggested: best && best.score >= SUGGESTION_THRESHOLD ? best : null };
}
