import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { knownVersions, type ReceivedLine } from '../db/usage-lines';
import { batchContext, mediateBatch, receivedLines } from './mediate';
import { encodePage, type EncodedPage } from '../db/usage-rows';
import { loadBillingContext } from '../db/mediation-context';
import {
  completeCycleRun,
  cycleSummary,
  failCycleRun,
  fetchCursor,
  flushStoredPages,
  markFetchDone,
  openCycleRun,
  type FetchCursor,
} from '../db/cycle-runs';
import { clearProviderAttention, getProvider, setProviderAttention } from '../db/providers';
import { addVersions, batchDecider, versionsOf, type Decision, type KnownVersion } from '../core/mediation';
import { notifyGroups } from './quarantine-notify';
import { CarrierError } from '../carrier/errors';
import type { CycleSummary, FetchResult } from '../workflows/usage-cycle.api';
import type { UsagePage } from '../carrier/client';
import { usageWindow, type UsageWindow } from '../core/usage-window';
import { needsAdminAttention } from '../core/attention';
import { Slots } from '../lib/concurrency';
import { ProductsOnLines } from './product-catalogue';

type DecidedLine = ReceivedLine & { decision: Decision | null };

/** A carrier page read into lines, with the lookup of their stored versions under way. */
interface PreparedPage {
  page: UsagePage;
  /** Its place among this call's pages. */
  index: number;
  lines: ReceivedLine[];
  /** The pages of this call committed when the lookup was sent (index), so visible to it. */
  visibleThrough: number;
  known: Promise<Map<string, KnownVersion[]>>;
}

export function usageActivities(deps: ActivityDeps) {
  return {
    /** Opens (or reopens, idempotently) the cycle's run row and fixes its usage window. */
    async beginCycle(input: {
      providerId: string;
      cycleId: string;
      window?: UsageWindow;
    }): Promise<{ window: UsageWindow }> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider) throw new Error(`provider ${input.providerId} does not exist`);
      const window = input.window ?? usageWindow(new Date(), provider.time_zone, deps.lookbackMonths);
      return { window: await openCycleRun(deps.pool, input.cycleId, input.providerId, window) };
    },

    /**
     * Fetches up to maxPages pages from where the cycle left off, and settles every line of each:
     * the page is decided in memory (core/mediation.ts: revision rule, identify → bucket → rate)
     * and stored in one transaction with its outcomes, its charges and the cycle's resume point.
     * A retry (or a killed worker) resumes exactly after the last stored page: nothing skipped,
     * nothing stored or billed twice. While pages are being stored (two at once, committed in
     * order), the next is fetched, parsed and decided, so the worker and PostgreSQL work at the
     * same time.
     */
    async fetchUsage(input: { providerId: string; cycleId: string; maxPages: number }): Promise<FetchResult> {
      return classified(async () => {
        const cursor = await fetchCursor(deps.pool, input.cycleId);
        if (!cursor) throw new Error(`cycle ${input.cycleId} has no run row: beginCycle must run first`);
        // Lines are mediated page by page as they are stored: their outcomes count towards the cycle's progress.
        const totals = {
          pages: 0,
          lines: 0,
          inserted: 0,
          exhausted: cursor.fetchDone,
          mediated: 0,
          billed: 0,
          quarantined: 0,
        };
        // Where the time goes, logged per call: waiting for the carrier (and parsing), reading the
        // lines (hashes, facts), waiting for their stored versions, deciding (and encoding the rows),
        // waiting for a save.
        const ms = { carrier: 0, lines: 0, known: 0, decide: 0, persist: 0 };
        let mark = Date.now();
        const lap = (stage: keyof typeof ms) => {
          const now = Date.now();
          ms[stage] += now - mark;
          mark = now;
        };
        const report = () => {
          const memory = process.memoryUsage();
          deps.log.info(
            {
              cycleId: input.cycleId,
              ...totals,
              ms,
              rssMb: Math.round(memory.rss / 2 ** 20),
              heapUsedMb: Math.round(memory.heapUsed / 2 ** 20),
            },
            'usage pages fetched',
          );
        };
        if (cursor.fetchDone) return totals;
        // A few cycles' pages at a time per process (the others wait their turn, heartbeating):
        // more only adds memory and database contention on two cores.
        const release = await fetchSlots.acquire(
          () => Context.current().heartbeat({ waitingForSlot: true }),
          Context.current().cancelled,
        );
        // Alive while waiting on the carrier too: a page may take up to the carrier's timeout (30 s
        // by default), longer than the heartbeat timeout, and a timed-out attempt would be retried
        // beside the one still running. A hung request ends at the carrier's timeout.
        const activity = Context.current();
        const alive = setInterval(() => activity.heartbeat({ pagesStored: totals.pages }), ALIVE_EVERY_MS);
        // The products on this call's lines, kept in the catalogue once the call ends.
        const products = new ProductsOnLines();
        try {
          return await fetchPages(cursor);
        } finally {
          clearInterval(alive);
          release();
          await products
            .keep(deps.pool, input.providerId)
            .catch((err: Error) =>
              deps.log.warn({ cycleId: input.cycleId, error: err.message }, 'products seen on usage lines not kept'),
            );
        }
        async function fetchPages(cursor: FetchCursor): Promise<FetchResult> {
          const client = await carrierFor(deps, input.providerId);
          // Services, allocations and the rate card, read once per call (a few seconds of pages).
          const billing = await loadBillingContext(deps.pool, input.providerId);
          // Up to SAVES_IN_FLIGHT pages are being saved (each in its own transaction) while the next
          // is decided: PostgreSQL works on two pages at once while this thread decides a third.
          // Pages commit in order: a page's resume point moves only once the page before it is
          // stored, so a failure never leaves a gap.
          const inFlight: Array<{ done: Promise<void> }> = [];
          // This call's pages, for the saver: they take their ids and commit in page order.
          const call = `${input.cycleId}#${++fetchCalls}`;
          const settleOldest = async () => {
            await inFlight[0]!.done;
            inFlight.shift();
            lap('persist');
          };
          const settleAll = async () => {
            while (inFlight.length > 0) await settleOldest();
          };
          // Each page's stored versions are looked up as soon as it arrives, while the page before it
          // is decided: the lookup's wait is off the critical path. What that lookup cannot show (pages
          // of this call not yet committed when it was sent) comes from memory: the versions of each
          // decided page, kept until every lookup sent after its commit covers it. A page committing
          // while a lookup runs may come both ways; a version seen twice changes no decision.
          const uncommitted = new Map<number, Array<[string, KnownVersion]>>();
          let committedThrough = -1;
          let sequence = 0;
          const prepare = (page: UsagePage): PreparedPage => {
            const started = Date.now();
            const lines = receivedLines(page.records, page.texts);
            products.note(lines);
            ms.lines += Date.now() - started;
            const prepared = {
              page,
              index: sequence++,
              lines,
              visibleThrough: committedThrough,
              known: knownVersions(deps.pool, input.providerId, lines),
            };
            // Surfaces when awaited, never as an unhandled rejection meanwhile.
            prepared.known.catch(() => undefined);
            return prepared;
          };
          const rows = { providerId: input.providerId, receivedBy: input.cycleId, mediatedBy: input.cycleId };
          // A page decided against what is stored and what this call has decided before it, and
          // encoded as the rows it stores: only those rows wait for its save, not its lines.
          const decideAndEncode = async (current: PreparedPage): Promise<EncodedPage> => {
            const known: Map<string, KnownVersion[]> = await current.known;
            lap('known');
            for (let i = current.visibleThrough + 1; i < current.index; i++)
              addVersions(known, uncommitted.get(i) ?? []);
            const decided = await decide(current.lines, batchContext(billing, known));
            // Later lookups were all sent after this page's lookup: none needs what it covered.
            for (const i of uncommitted.keys()) if (i <= current.visibleThrough) uncommitted.delete(i);
            // Only what the next pages' decisions need is kept: not the parsed records.
            uncommitted.set(current.index, versionsOf(decided));
            return encodePage(rows, decided);
          };
          try {
            const pages = client.usagePages(
              cursor.window,
              deps.usagePageSize,
              cursor.nextPage,
              cursor.lastFingerprint ?? undefined,
            );
            const prepareNext = () => pages.next().then((r) => (r.done ? null : prepare(r.value)));
            let upcoming = prepareNext();
            for (;;) {
              let current: PreparedPage | null = await upcoming;
              lap('carrier');
              if (!current) break;
              // The next page is requested now, while this one is decided; its lines and lookup follow
              // when it arrives. One page ahead, no more: each page ahead is memory.
              upcoming = prepareNext();
              upcoming.catch(() => undefined);
              const encoded = await decideAndEncode(current);
              // Scalars only from here on (the callbacks below too): the page's lines are not kept alive.
              const pageNumber = current.page.page,
                fingerprint = current.page.fingerprint,
                fetched = current.lines.length,
                index = current.index;
              current = null;
              lap('decide');
              while (inFlight.length >= SAVES_IN_FLIGHT) await settleOldest();
              // Stored on the saver's own connections (and thread), in this call's page order.
              const done = deps.pageSaver
                .save({
                  call,
                  providerId: input.providerId,
                  cycleId: input.cycleId,
                  page: encoded,
                  cursor: { page: pageNumber, fingerprint, fetched },
                })
                .then((saved) => {
                  // Committed, and in order (each waits for the one before): lookups sent from now see it.
                  committedThrough = index;
                  totals.pages++;
                  totals.lines += fetched;
                  totals.inserted += saved.inserted;
                  totals.mediated += saved.processed;
                  totals.billed += saved.billed;
                  totals.quarantined += Object.values(saved.quarantined).reduce((a, n) => a + (n ?? 0), 0);
                  Context.current().heartbeat({ page: pageNumber });
                });
              // Surfaces when awaited (settleOldest), never as an unhandled rejection meanwhile.
              done.catch(() => undefined);
              inFlight.push({ done });
              if (totals.pages + inFlight.length >= input.maxPages) {
                await settleAll();
                await flushStoredPages(deps.pool);
                report();
                return totals;
              }
            }
            await settleAll();
          } catch (err) {
            // The pages being saved must finish (or fail) before this attempt ends.
            await Promise.all(inFlight.map((f) => f.done.catch(() => undefined)));
            const code = (err as { code?: string }).code;
            if (needsAdminAttention(code))
              await setProviderAttention(deps.pool, input.providerId, (err as Error).message);
            // Pages stored in this attempt are safe (the cursor moved with them). A transient fault
            // after progress ends the call normally, so the next call starts at attempt 1 rather than
            // inheriting an ever-longer backoff; a fault before any progress goes to Temporal's retry.
            if (err instanceof CarrierError && err.retryable && totals.pages > 0) {
              await flushStoredPages(deps.pool);
              deps.log.warn(
                { cycleId: input.cycleId, error: err.message, pagesStored: totals.pages },
                'carrier fault after progress; continuing in a new call',
              );
              report();
              return totals;
            }
            throw err;
          }
          await markFetchDone(deps.pool, input.cycleId);
          totals.exhausted = true;
          report();
          return totals;
        }
      });
    },

    /**
     * Mediates the provider's lines still NEW (those a crash left between persisting and mediating,
     * or an earlier failed cycle's) in batches, each its own transaction, heartbeating.
     */
    async mediateUsage(input: {
      providerId: string;
      cycleId: string;
      batchSize: number;
      maxBatches: number;
    }): Promise<{ processed: number; billed: number; quarantined: number; done: boolean }> {
      const totals = { processed: 0, billed: 0, quarantined: 0, done: false };
      for (let b = 0; b < input.maxBatches; b++) {
        // A data error (SQLSTATE 22/23: a charge that cannot be stored) fails the cycle at once
        // with its reason: the batch is rolled back, so its lines stay NEW, never half-way.
        const r = await classified(() =>
          mediateBatch(deps.pool, {
            providerId: input.providerId,
            mediatedBy: input.cycleId,
            limit: input.batchSize,
            source: { kind: 'pending' },
          }),
        );
        totals.processed += r.processed;
        totals.billed += r.billed;
        totals.quarantined += Object.values(r.quarantined).reduce((a, n) => a + (n ?? 0), 0);
        Context.current().heartbeat({ batch: b });
        if (r.processed < input.batchSize) {
          totals.done = true;
          break;
        }
      }
      return totals;
    },

    /** Tells each quarantine group that received lines in this cycle (by reference: group and count). */
    async notifyQuarantineGroups(input: { providerId: string; mediatedBy: string }): Promise<{ groups: number }> {
      const groups = await notifyGroups(deps, input.providerId, input.mediatedBy);
      return { groups };
    },

    /** The cycle's summary, computed from the database (the truth), stored on its run row. */
    async completeCycle(input: { providerId: string; cycleId: string }): Promise<CycleSummary> {
      const summary = await cycleSummary(deps.pool, input.cycleId);
      await completeCycleRun(deps.pool, input.cycleId, summary);
      // A cycle that got through proves the credentials work again.
      await clearProviderAttention(deps.pool, input.providerId);
      return summary;
    },

    async failCycle(input: {
      providerId: string;
      cycleId: string;
      reason: string;
      needsAttention: boolean;
    }): Promise<void> {
      await failCycleRun(deps.pool, input.cycleId, input.reason);
      if (input.needsAttention) await setProviderAttention(deps.pool, input.providerId, input.reason);
    },
  };
}

/**
 * Decides a page, yielding to I/O every few lines: the previous page's save (its COPY stream, its
 * round trips) needs this thread too, and must not wait for a whole page's deciding. Should
 * deciding fail outright (a defect), the page's lines are still stored, as received and undecided
 * (NEW), for the sweep: persisting never depends on mediating.
 */
async function decide(lines: ReceivedLine[], ctx: Parameters<typeof batchDecider>[0]): Promise<DecidedLine[]> {
  const decided = lines as DecidedLine[];
  const decideOne = batchDecider(ctx);
  for (let i = 0; i < decided.length; i++) {
    if (i > 0 && i % DECIDE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const line = decided[i]!;
    try {
      line.decision = decideOne(line);
    } catch {
      // Later lines' decisions depend on earlier ones: the whole page waits for the sweep.
      for (const l of decided) l.decision = null;
      break;
    }
  }
  return decided;
}

/** Fetch activities working on pages at once in one worker process (two cores: PostgreSQL needs one; measured: 2 beat 3 and 8). */
export const FETCH_SLOTS = 2;
const fetchSlots = new Slots(FETCH_SLOTS);

/** How often a fetch call says it is alive between pages (the workflow's heartbeat timeout is 10 s). */
const ALIVE_EVERY_MS = 2_000;

/** Pages being saved at once, each on its own connection, committed in page order. */
export const SAVES_IN_FLIGHT = 2;

/** Fetch calls so far in this process: names each call's pages for the saver. */
let fetchCalls = 0;

/** Lines decided between two turns of the event loop (about a millisecond of work). */
const DECIDE_SLICE = 100;
