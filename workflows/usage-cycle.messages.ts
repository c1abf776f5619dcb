/**
 * The usage cycle workflow's messages and the types they carry: its contract, shared by the
 * workflow (usage-cycle.ts), its callers (through usage-cycle.api.ts) and its activities
 * (activities/usage.ts). Workflow-safe: no client or Node imports.
 */
import { defineQuery } from '@temporalio/workflow';
import type { UsageWindow } from '../core/usage-window';

export type { UsageWindow };

export interface CycleSummary {
  cycleId: string;
  providerId: string;
  window: UsageWindow;
  fetched: number;
  billed: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  duplicatesSkipped: number;
  cost: string;
  charge: string;
  margin: string;
}

/** What one fetchUsage call did: pages and lines stored, and the outcomes of the lines it mediated page by page. */
export interface FetchResult {
  pages: number;
  lines: number;
  inserted: number;
  exhausted: boolean;
  mediated: number;
  billed: number;
  quarantined: number;
}

export interface UsageCycleInput {
  providerId: string;
  /** Defaults to this workflow's id; kept across continue-as-new. */
  cycleId?: string;
  /** Defaults to the configured look-back in the provider's time zone. */
  window?: UsageWindow;
  progress?: CycleProgress;
}

export interface CycleProgress {
  phase: 'starting' | 'fetching' | 'mediating' | 'notifying' | 'completed' | 'failed';
  pagesFetched: number;
  linesFetched: number;
  /** Lines stored new (exact repeats of known lines are not mediated again). */
  linesNew: number;
  /** Lines mediated so far: page by page during the fetch, then the sweep. */
  linesMediated: number;
  billed: number;
  quarantined: number;
  /**
   * The carrier does not say how many lines a window holds, so the total is known once the last
   * page is in: until then null (pages so far is what is known), then the new lines to mediate.
   */
  expectedLines: number | null;
  /** linesMediated of expectedLines, 0–100; null while the total is unknown. */
  percent: number | null;
}

export const progressQuery = defineQuery<CycleProgress>('progress');

/** The activities this workflow calls (activities/usage.ts implements them); each passes counts, never lines. */
export interface UsageCycleActivities {
  beginCycle(input: { providerId: string; cycleId: string; window?: UsageWindow }): Promise<{ window: UsageWindow }>;
  fetchUsage(input: { providerId: string; cycleId: string; maxPages: number }): Promise<FetchResult>;
  mediateUsage(input: {
    providerId: string;
    cycleId: string;
    batchSize: number;
    maxBatches: number;
  }): Promise<{ processed: number; billed: number; quarantined: number; done: boolean }>;
  notifyQuarantineGroups(input: { providerId: string; mediatedBy: string }): Promise<{ groups: number }>;
  completeCycle(input: { providerId: string; cycleId: string }): Promise<CycleSummary>;
  failCycle(input: { providerId: string; cycleId: string; reason: string; needsAttention: boolean }): Promise<void>;
}
