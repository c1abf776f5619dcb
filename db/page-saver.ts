/**
 * Where a fetch call's decided pages are stored: each in its own transaction (its lines, charges
 * and the cycle's resume point), several at once, committed in the order they were given.
 *
 * The worker's main thread decides pages; a save is half a dozen round trips (BEGIN, ids, two
 * COPYs, the resume point, COMMIT) and a megabyte and a half written to a socket. Run on the main
 * thread, every step of a save waited for the deciding to yield, and PostgreSQL's backends sat
 * waiting for their next command or the rest of their COPY data (pg_stat_activity: ClientRead,
 * nearly one of the two saves at any moment). ThreadPageSaver runs the saves on a thread of their
 * own, with connections of their own; the main thread hands each page's bytes over and carries on.
 */
import v8 from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import path from 'node:path';
import { orderedTurns, type Turn } from '../lib/concurrency';
import { CopyRows, type CopyRowsData } from './copy';
import { advanceCursor } from './cycle-runs';
import { createPool, inTransaction, type Pool, type PoolTimeouts } from './pool';
import { ConcurrentSaveError, saveEncodedPage, type SavedPage } from './usage-lines';
import type { EncodedPage } from './usage-rows';

export interface PageSave {
  /** The fetch call the page belongs to: a call's pages commit in the order they are given. */
  call: string;
  providerId: string;
  cycleId: string;
  page: EncodedPage;
  /** The cycle's resume point once this page is stored. */
  cursor: { page: number; fingerprint: string; fetched: number };
}

export interface PageSaver {
  save(job: PageSave): Promise<SavedPage>;
  /** Waits for the saves under way, then lets go of its connections (and thread). */
  close(): Promise<void>;
}

/**
 * The saves themselves, on a pool: a page takes its ids once the call's page before it has taken
 * its own (orderedTurns), and commits only after that page committed, so the resume point never
 * passes a page that is not stored. A page whose predecessor failed fails too (rolled back).
 */
export class PageSaves {
  private readonly calls = new Map<string, { nextTurn: () => Turn; last: Promise<void> | null; pending: number }>();

  constructor(private readonly pool: Pool) {}

  save(job: PageSave): Promise<SavedPage> {
    let call = this.calls.get(job.call);
    if (!call) this.calls.set(job.call, (call = { nextTurn: orderedTurns(), last: null, pending: 0 }));
    const previous = call.last;
    const turn = call.nextTurn();
    call.pending++;
    const done = inTransaction(this.pool, async (db) => {
      const saved = await saveEncodedPage(db, job.page, job.providerId, turn);
      if (previous) await previous;
      await advanceCursor(db, job.cycleId, { ...job.cursor, repeats: saved.repeats });
      return saved;
    });
    const committed = done.then(() => undefined);
    // Surfaces through the next page's save (or the caller's), never as an unhandled rejection.
    committed.catch(() => undefined);
    call.last = committed;
    const state = call;
    void done
      .catch(() => undefined)
      .finally(() => {
        // A page that failed before its save began (no connection) must not hold up the next one's ids.
        turn.release();
        if (--state.pending === 0 && this.calls.get(job.call) === state) this.calls.delete(job.call);
      });
    return done;
  }
}

// ---------------------------------------------------------------------------------------------
// The thread

/** A page save as a message: the page's rows as bytes handed over, its counts as they are. */
export interface SaveMessage {
  id: number;
  job: Omit<PageSave, 'page'> & {
    page: Omit<EncodedPage, 'lines' | 'charges'> & { lines: CopyRowsData; charges: CopyRowsData };
  };
}

/** A save's outcome; a committed page's row memory comes back with it, for the next pages (CopyRows.recycle). */
export type SaveReply =
  | { id: number; saved: SavedPage; memory: ArrayBuffer[] }
  | { id: number; error: { name: string; message: string; code?: string; concurrent: boolean } };

export interface SaverThreadData {
  databaseUrl: string;
  connections: number;
  timeouts: PoolTimeouts;
}

/** The page as a message (its rows' bytes handed over: the page must not be used afterwards). */
export function pageMessage(id: number, job: PageSave): { message: SaveMessage; transfer: ArrayBuffer[] } {
  const lines = job.page.lines.handOver();
  const charges = job.page.charges.handOver();
  return {
    message: { id, job: { ...job, page: { ...job.page, lines: lines.rows, charges: charges.rows } } },
    transfer: [...lines.transfer, ...charges.transfer],
  };
}

/** The page a message carries, as saveEncodedPage takes it. */
export function pageFromMessage(message: SaveMessage): PageSave {
  const { page } = message.job;
  return {
    ...message.job,
    page: { ...page, lines: CopyRows.takeOver(page.lines), charges: CopyRows.takeOver(page.charges) },
  };
}

/** What a failed save says across the thread boundary: its message, SQLSTATE, and whether deciding again sorts it out. */
export function replyError(err: unknown): Extract<SaveReply, { error: unknown }>['error'] {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    concurrent: err instanceof ConcurrentSaveError,
  };
}

function errorFromReply(error: Extract<SaveReply, { error: unknown }>['error']): Error {
  const err = error.concurrent ? new ConcurrentSaveError(error.message) : new Error(error.message);
  if (!error.concurrent) err.name = error.name;
  if (error.code !== undefined) Object.assign(err, { code: error.code });
  return err;
}

/**
 * Saves on a thread of their own (db/page-saver-thread.ts), with `connections` connections of
 * their own. The thread starts with the first save and again after it died (every save it held
 * fails, and is retried as any failed save is: the cycle resumes after its last stored page).
 */
export class ThreadPageSaver implements PageSaver {
  private thread: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (saved: SavedPage) => void; reject: (err: Error) => void }>();

  constructor(private readonly data: SaverThreadData) {}

  save(job: PageSave): Promise<SavedPage> {
    const thread = this.thread ?? this.start();
    const id = this.nextId++;
    const { message, transfer } = pageMessage(id, job);
    return new Promise<SavedPage>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        thread.postMessage(message, transfer);
      } catch (err) {
        // Not sent (a value that cannot cross threads): nothing of the page was stored.
        this.waiting.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    // The thread finishes the saves it holds, closes its pool and exits; until then it keeps the process.
    thread.ref();
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.postMessage('close');
    await exited;
  }

  private start(): Worker {
    // The thread's module beside this one: .js once compiled; .ts under tsx (tests, scripts),
    // whose loader a thread does not inherit, so the thread registers it first.
    const file = path.join(__dirname, `page-saver-thread${path.extname(__filename)}`);
    const options = { workerData: this.data, resourceLimits: THREAD_HEAP };
    const thread = file.endsWith('.ts')
      ? threadWithOwnHeap(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, {
          ...options,
          eval: true,
        })
      : threadWithOwnHeap(file, options);
    thread.on('message', (reply: SaveReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) return waiter.reject(errorFromReply(reply.error));
      for (const memory of reply.memory) CopyRows.recycle(memory);
      waiter.resolve(reply.saved);
    });
    const fail = (why: string) => {
      if (this.thread !== thread) return;
      this.thread = null;
      const held = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of held) w.reject(new Error(`the page saver thread ${why}: the page was not stored`));
    };
    thread.on('error', (err) => fail(`failed (${err.message})`));
    thread.on('exit', (code) => fail(`exited (${code})`));
    // Never keeps a draining process alive by itself.
    thread.unref();
    this.thread = thread;
    return thread;
  }
}

/**
 * The thread's heap: it holds a pool and the pages under way (their bytes are outside the heap).
 */
const THREAD_HEAP = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

/**
 * V8's heap-size flags, any of which overrides a thread's own limits: the worker's
 * (workers/node-flags.ts, sized for the thread that decides pages) and the rest, in either of the
 * spellings V8 accepts (dashes or underscores).
 */
const HEAP_FLAG =
  /^--(max[-_]old[-_]space[-_]size|initial[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|max[-_]heap[-_]size|initial[-_]heap[-_]size)=/;

/**
 * A worker thread whose heap is sized by its own `resourceLimits`, not by the process's heap flags.
 * V8 reads its heap flags whenever it makes a heap, and lets them override a thread's limits: with
 * the worker's flags, the saver thread's young generation grew to 64 MB and its old one towards
 * 192 MB before a first full collection (a million-line cycle's worker peaked at 491-558 MB
 * instead of about 400), for a thread that holds a few pages. So the flags are unset while the
 * thread's heap is made and set again, as the process was started with them, once it runs (V8
 * takes them back at run time: node:v8 setFlagsFromString); the main thread's heap is long made.
 * Other threads are made at start-up (Temporal's workflow threads), not meanwhile.
 */
export function threadWithOwnHeap(script: string, options: WorkerOptions): Worker {
  const flags = process.execArgv.filter((a) => HEAP_FLAG.test(a));
  for (const f of flags) v8.setFlagsFromString(`${f.slice(0, f.indexOf('='))}=0`);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    for (const f of flags) v8.setFlagsFromString(f);
  };
  try {
    const thread = new Worker(script, options);
    // Its heap is made once it runs (or it never will be).
    thread.once('online', restore);
    thread.once('exit', restore);
    return thread;
  } catch (err) {
    restore();
    throw err;
  }
}

/** A saver for a worker process: its saves on a thread of their own. */
export function threadPageSaver(databaseUrl: string, timeouts: PoolTimeouts, connections: number): ThreadPageSaver {
  return new ThreadPageSaver({ databaseUrl, timeouts, connections });
}

/** The pool a saver thread opens (exported for the thread's module). */
export function saverPool(data: SaverThreadData): Pool {
  return createPool(data.databaseUrl, data.connections, data.timeouts);
}
