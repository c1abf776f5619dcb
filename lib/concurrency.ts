/**
 * Runs `work` over every item with at most `limit` at a time; resolves when all are done, in no
 * particular order. The first failure is thrown once every call already started has settled (no
 * call is left running unobserved); no new call starts after a failure.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  if (!(limit >= 1)) throw new Error('limit must be at least 1');
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

/**
 * A counting semaphore: at most `size` holders at once, the rest served in arrival order.
 * `whileWaiting` runs every few seconds until a slot is free (an activity's heartbeat, so a
 * waiting activity is not taken for dead); `cancelled` rejecting takes the waiter out of the queue.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(whileWaiting: () => void, cancelled: Promise<never>): Promise<() => void> {
    if (this.free > 0) this.free--;
    else {
      const timer = setInterval(whileWaiting, 2_000);
      let granted!: () => void;
      const turn = new Promise<void>((resolve) => (granted = resolve));
      this.waiting.push(granted);
      try {
        await Promise.race([turn, cancelled]);
      } catch (err) {
        // Cancelled while waiting (a worker shutting down, say): leave the queue, hold no slot.
        const at = this.waiting.indexOf(granted);
        if (at !== -1) this.waiting.splice(at, 1);
        else this.release(); // granted at the same moment: hand the slot on
        throw err;
      } finally {
        clearInterval(timer);
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** One holder's place in an ordered sequence of turns (orderedTurns). */
export interface Turn {
  /** Settles once the turn before this one is released. */
  readonly ready: Promise<void>;
  /** Lets the next turn go; releasing twice is harmless. */
  release(): void;
}

/**
 * Turns handed out in the order they are asked for: each is ready once the one before it is
 * released, whenever the holders get to wait for it. For work that runs concurrently but must take
 * one step (drawing ids, say) in the order it was started.
 */
export function orderedTurns(): () => Turn {
  let previous: Promise<void> = Promise.resolve();
  return () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const turn = { ready: previous, release };
    previous = released;
    return turn;
  };
}
