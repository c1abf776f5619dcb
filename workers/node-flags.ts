/**
 * The V8 flags a worker process runs with, wherever it runs: the Dockerfile's CMD, `npm run
 * worker` and the benchmarks' worker (a test checks they agree). Told its heap budget, V8 collects
 * before a busy worker's heap grows: a usage cycle stays near 400–460 MB instead of 500–750 MB.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=512', '--max-semi-space-size=48'] as const;

/**
 * What a worker process has in its environment beside: glibc keeps at most two malloc arenas. Its
 * many threads (libuv, V8, the Temporal core's) each kept an arena of freed page buffers: twenty
 * cycles on two workers peaked at 506-532 MB of RSS with the default, 465 MB with two.
 */
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;
