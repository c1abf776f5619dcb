import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { observeCarrier, type CarrierExchange } from '../carrier/observer';
import type { CycleSummary } from '../workflows/usage-cycle.api';

/**
 * The project's own metrics (prom-client), recorded in the worker process. Names follow the
 * Prometheus conventions: `csp_` prefix, base units in the name (`_seconds`), `_total` on
 * counters. Label values are bounded: provider ids (a handful per installation), quarantine
 * reasons, carrier endpoint templates, status codes. Never tenant ids, RecordIds or page numbers.
 */
export const registry = new Registry();

const counter = (name: string, help: string, labelNames: string[]) =>
  new Counter({ name, help, labelNames, registers: [registry] });
const gauge = (name: string, help: string, labelNames: string[]) =>
  new Gauge({ name, help, labelNames, registers: [registry] });

export const metrics = {
  linesFetched: counter(
    'csp_usage_lines_fetched_total',
    'Usage lines received from the carrier by completed cycles (repeats included)',
    ['provider'],
  ),
  linesBilled: counter(
    'csp_usage_lines_billed_total',
    'Usage lines billed into the misc usage bucket: by completed cycles, quarantine actions (allocate, cleanse, accept-revision) and invoice reconciliation',
    ['provider'],
  ),
  linesQuarantined: counter(
    'csp_usage_lines_quarantined_total',
    'Usage lines quarantined by completed cycles, by reason',
    ['provider', 'reason'],
  ),
  linesRepeated: counter(
    'csp_usage_lines_repeated_total',
    'Exact repeats of lines already received (not billed again)',
    ['provider'],
  ),
  charge: gauge(
    'csp_usage_charge_billed',
    "Charge billed since the worker started (cycles, quarantine actions, invoice reconciliation), in the provider's currency (a gauge: credits can lower it)",
    ['provider', 'currency'],
  ),
  cost: gauge(
    'csp_usage_cost_billed',
    "Carrier cost of the lines billed since the worker started (cycles, quarantine actions, invoice reconciliation), in the provider's currency",
    ['provider', 'currency'],
  ),
  margin: gauge(
    'csp_usage_margin_billed',
    "Margin (charge − cost) billed since the worker started (cycles, quarantine actions, invoice reconciliation), in the provider's currency",
    ['provider', 'currency'],
  ),
  cycles: counter('csp_usage_cycles_total', 'Usage cycles finished, by outcome (completed, failed, needs_attention)', [
    'provider',
    'outcome',
  ]),
  cycleDuration: new Histogram({
    name: 'csp_usage_cycle_duration_seconds',
    help: 'Wall time of a usage cycle from its start to its end',
    labelNames: ['provider', 'outcome'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers: [registry],
  }),
  carrierRequests: counter(
    'csp_carrier_requests_total',
    'HTTP requests to the carrier by endpoint and status (HTTP code, or timeout/network); faults and retries included',
    ['endpoint', 'status'],
  ),
  carrierDuration: new Histogram({
    name: 'csp_carrier_request_duration_seconds',
    help: 'Time to a complete carrier answer, by endpoint',
    labelNames: ['endpoint'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
  tokenRefreshes: counter(
    'csp_carrier_token_refreshes_total',
    'Bearer token requests to the carrier identity endpoint, by outcome (ok, refused, error)',
    ['outcome'],
  ),
  licenceChanges: counter(
    'csp_licence_changes_total',
    'Licence changes sent through this system, by kind and outcome (done, failed)',
    ['kind', 'outcome'],
  ),
  alertsFired: counter('csp_alerts_fired_total', 'Alert occurrences started, by rule', ['rule']),
  alertsResolved: counter('csp_alerts_resolved_total', 'Alert occurrences cleared, by rule', ['rule']),
  alertDeliveries: counter(
    'csp_alert_deliveries_total',
    'Alert messages sent or failed, by channel type (webhook, email) and outcome (sent, failed)',
    ['channel', 'outcome'],
  ),
};

/** A cycle's summary is counted once per process, however often its completion is retried. */
const counted = new Set<string>();
function once(cycleId: string): boolean {
  if (counted.has(cycleId)) return false;
  counted.add(cycleId);
  if (counted.size > 10_000) counted.delete(counted.values().next().value as string);
  return true;
}

/** Counts a completed cycle from its stored summary (the database's truth, also `csp cycle show`). */
export function recordCycleCompleted(
  summary: CycleSummary,
  timing: { seconds: number; currency: string } | null,
): void {
  if (!once(summary.cycleId)) return;
  const provider = summary.providerId;
  metrics.linesFetched.inc({ provider }, summary.fetched);
  countBilled({
    providerId: provider,
    currency: timing?.currency ?? 'unknown',
    lines: summary.billed,
    charge: summary.charge,
    cost: summary.cost,
    margin: summary.margin,
  });
  metrics.linesRepeated.inc({ provider }, summary.duplicatesSkipped);
  for (const [reason, n] of Object.entries(summary.quarantinedByReason))
    metrics.linesQuarantined.inc({ provider, reason }, n);
  metrics.cycles.inc({ provider, outcome: 'completed' });
  if (timing) metrics.cycleDuration.observe({ provider, outcome: 'completed' }, timing.seconds);
}

/** Lines billed and their money, by whatever billed them (one provider, its currency). */
export interface BilledEvent {
  providerId: string;
  currency: string;
  /** Lines billed (CHARGE entries). */
  lines: number;
  /** Net sums of the entries written (credits negative), decimal text. */
  charge: string;
  cost: string;
  margin: string;
}

function countBilled(b: BilledEvent): void {
  const provider = b.providerId;
  const currency = b.currency;
  if (b.lines > 0) metrics.linesBilled.inc({ provider }, b.lines);
  metrics.charge.inc({ provider, currency }, Number(b.charge));
  metrics.cost.inc({ provider, currency }, Number(b.cost));
  metrics.margin.inc({ provider, currency }, Number(b.margin));
}

/**
 * Counts billing done outside a usage cycle: a quarantine action (allocate, cleanse,
 * accept-revision), an invoice's NOT_IN_FEED lines, and whatever bills next (a re-rate). `key`
 * names the event (the action's or mediation's tag): counted once per process, however often the
 * activity that billed is retried. Call it with what the event wrote (db/charges.ts billedBy…).
 */
export function recordBilled(key: string, b: BilledEvent): void {
  if (b.lines === 0 && Number(b.charge) === 0 && Number(b.cost) === 0) return;
  if (!once(`billed:${key}`)) return;
  countBilled(b);
}

export function recordCycleFailed(
  providerId: string,
  cycleId: string,
  needsAttention: boolean,
  seconds: number | null,
): void {
  if (!once(cycleId)) return;
  const outcome = needsAttention ? 'needs_attention' : 'failed';
  metrics.cycles.inc({ provider: providerId, outcome });
  if (seconds !== null) metrics.cycleDuration.observe({ provider: providerId, outcome }, seconds);
}

const TOKEN_ENDPOINT = 'POST /core/connect/token';

/** Endpoint templates only: page numbers and ids never become label values. */
export function endpointLabel(endpoint: string): string {
  return endpoint.replace(/ page \d+$/, '');
}

export function recordCarrierExchange(e: CarrierExchange): void {
  const endpoint = endpointLabel(e.endpoint);
  metrics.carrierRequests.inc({ endpoint, status: String(e.status) });
  metrics.carrierDuration.observe({ endpoint }, e.seconds);
  if (endpoint === TOKEN_ENDPOINT) {
    metrics.tokenRefreshes.inc({
      outcome:
        e.status === 200
          ? 'ok'
          : typeof e.status === 'number' && e.status >= 400 && e.status < 500
            ? 'refused'
            : 'error',
    });
  }
}

// Every carrier client in this process reports to the registry.
observeCarrier(recordCarrierExchange);
