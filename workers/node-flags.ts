/**
 * The V8 flags a worker process runs with, wherever it runs: the Dockerfile's CMD, `npm run
 * worker` and the benchmarks' worker (a test checks they agree). Told its heap budget, V8 collects
 * before a busy worker's heap grows: a usage cycle stays near 400–460 MB instead of 500–750 MB.
 *
 * The budget also sets how far the old generation may grow between full collections: with 512 MB,
 * V8 marks again at about 1.4 times the ~60 MB that stays live, and every carrier page (a string
 * of about a megabyte, in the large-object space) brings that nearer: 130 full collections for a
 * million lines, their concurrent marking a third of the worker's CPU. An initial old generation
 * of 192 MB lets it grow further first: 39 of them, the worker 18.6–19.9 CPU s instead of
 * 22–25 for a million lines; peak RSS 396–417 MB with one cycle, 431–471 with twenty on two
 * workers (`npm run bench`, README).
 */
export const WORKER_NODE_FLAGS = [
  '--max-old-space-size=512',
  '--initial-old-space-size=192',
  '--max-semi-space-size=48',
] as const;

/**
 * What a worker process has in its environment beside: glibc keeps at most two malloc arenas. Its
 * many threads (libuv, V8, the Temporal core's) each kept an arena of freed page buffers: twenty
 * cycles on two workers peaked at 506-532 MB of RSS with the default, 465 MB with two.
 */
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;
