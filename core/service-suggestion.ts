import { prepareName, preparedSimilarity, similarity } from '../lib/similarity';

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
export function rankServices<T extends ServiceCandidate>(
  names: { customer: string | null; domain: string | null },
  services: T[],
): { ranked: Array<T & { score: number }>; suggested: (T & { score: number }) | null } {
  const ranked = services
    .map((s) => ({
      ...s,
      score: Math.max(
        similarity(names.domain ?? '', s.tenant_domain ?? ''),
        similarity(names.customer ?? '', s.customer_name ?? ''),
      ),
    }))
    .sort((a, b) => b.score - a.score || (a.customer_name ?? a.id).localeCompare(b.customer_name ?? b.id));
  const best = ranked[0];
  return { ranked, suggested: best && best.score >= SUGGESTION_THRESHOLD ? best : null };
}

/**
 * rankServices' `suggested` for many groups against one provider's services: each service's names
 * are prepared once, and the best is found without sorting (the same order: score, then name).
 * 5,000 services took 57 ms a group through rankServices; a quarantine fan-out asks for thousands.
 */
export function serviceSuggester<T extends ServiceCandidate>(
  services: T[],
): (names: { customer: string | null; domain: string | null }) => (T & { score: number }) | null {
  const prepared = services.map((s) => ({
    s,
    domain: prepareName(s.tenant_domain ?? ''),
    customer: prepareName(s.customer_name ?? ''),
  }));
  return (names) => {
    const domain = prepareName(names.domain ?? '');
    const customer = prepareName(names.customer ?? '');
    let best: T | null = null;
    let bestScore = -1;
    for (const p of prepared) {
      const score = Math.max(preparedSimilarity(domain, p.domain), preparedSimilarity(customer, p.customer));
      if (
        score > bestScore ||
        (score === bestScore && best && (p.s.customer_name ?? p.s.id).localeCompare(best.customer_name ?? best.id) < 0)
      ) {
        best = p.s;
        bestScore = score;
      }
    }
    return best && bestScore >= SUGGESTION_THRESHOLD ? { ...best, score: bestScore } : null;
  };
}
