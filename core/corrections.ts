/**
 * Corrections after billing. A billed line is never edited: a correction is a CREDIT entry
 * reversing its live charge plus, where the line is still billable, a new CHARGE, both linked to
 * the RecordId, in the line's month when it is open, else in the current open month as an
 * adjustment.
 */

/** What a past-dated cancel credits (or would credit). `amount` is the exact sum credited. */
export interface CreditSummary {
  lines: number;
  amount: string;
  currency: string;
  /** The billing months the credits land in. */
  periods: string[];
}
