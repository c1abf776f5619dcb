/** What an admin's operation takes besides its request: a deadline, and a call once accepted. */
export interface Waiting {
  deadlineMs?: number;
  onAccepted?: () => void;
}

/** Long enough for a test that holds activities: the test decides when a change finishes. */
const TEST_DEADLINE_MS = 600_000;

/**
 * Sends an admin's change and returns once its workflow accepted it (refused ones throw here),
 * with its result to come: for tests that queue several changes behind a held activity.
 */
export async function whenAccepted<T>(send: (wait: Waiting) => Promise<T>): Promise<{ result: Promise<T> }> {
  let accepted!: () => void;
  const isAccepted = new Promise<void>((resolve) => (accepted = resolve));
  const result = send({ deadlineMs: TEST_DEADLINE_MS, onAccepted: accepted });
  await Promise.race([isAccepted, result.then(() => undefined)]);
  return { result };
}
