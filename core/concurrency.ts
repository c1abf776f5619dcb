/**
 * Runs `work` over every item with at most `limit` at a time; resolves when all are done, in no
 * particular order. The first failure is thrown once every call already started has settled (no
 * call is left running unobserved); no new call starts after a failure.
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
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
