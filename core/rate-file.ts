import { formatMoney } from './money';
import { mediate, SeenLedger, type RateCard, type ServiceRef } from './rating';
import { contentHash, rawRecordId } from './usage-record';

/** One line of the rating command's output, as domain.md fixes it. */
export interface RatedLine {
  recordId: string | null;
  status: 'COMPLETED' | 'QUARANTINED' | 'DUPLICATE';
  reason: string | null;
  serviceId: string | null;
  charge: string | null;
  cost: string | null;
}

/** Rates records offline with exactly the mediation the usage cycle uses. */
export function rateRecords(card: RateCard, services: ServiceRef[], records: unknown[]): RatedLine[] {
  const ledger = new SeenLedger();
  const ctx = { card, services, seen: (id: string, hash: string) => ledger.check(id, hash) };
  return records.map((raw): RatedLine => {
    const result = mediate(raw, ctx, contentHash(raw));
    const recordId = rawRecordId(raw);
    switch (result.status) {
      case 'COMPLETED':
        return {
          recordId,
          status: 'COMPLETED',
          reason: null,
          serviceId: result.serviceId,
          charge: formatMoney(result.rated.charge),
          cost: formatMoney(result.rated.cost),
        };
      case 'DUPLICATE':
        return { recordId, status: 'DUPLICATE', reason: null, serviceId: null, charge: null, cost: null };
      case 'QUARANTINED':
        return {
          recordId,
          status: 'QUARANTINED',
          reason: result.reason,
          serviceId: result.serviceId,
          charge: null,
          cost: null,
        };
    }
  });
}
