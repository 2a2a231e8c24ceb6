// Runs one task per item with a cap on tasks in flight and an optional deadline after which no
// task starts, so a resync neither floods the API server nor outlives the request that carries
// it (operator-anchors.md, "thundering herd at resync"). Nothing sleeps inside a slot: a slot
// is either running a task or free.

export type RunBoundedOptions = {
  /** Most tasks running at once; an integer ≥ 1. */
  concurrency: number;
  /** Time (per `now`) after which no further task starts; the rest are counted as skipped. */
  deadline?: number;
  /** Clock for `deadline`. @default Date.now */
  now?: () => number;
};

export type RunSummary<T> = {
  ok: number;
  failed: number;
  /** Items never started because the deadline passed. */
  skipped: number;
  /** One entry per failed item, in completion order. */
  errors: { item: T; error: unknown }[];
};

/**
 * Calls `task` for every item, at most `concurrency` at a time, starting none after `deadline`.
 * A failing task does not stop the others; its error is collected. Resolves when every started
 * task has settled. Throws RangeError for a concurrency that is not an integer ≥ 1.
 */
export async function runBounded<T>(
  items: readonly T[],
  task: (item: T) => Promise<void>,
  { concurrency, deadline, now = Date.now }: RunBoundedOptions,
): Promise<RunSummary<T>> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const summary: RunSummary<T> = { ok: 0, failed: 0, skipped: 0, errors: [] };
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (deadline !== undefined && now() >= deadline) {
        summary.skipped += items.length - next;
        next = items.length;
        return;
      }
      const item = items[next++] as T;
      try {
        await task(item);
        summary.ok++;
      } catch (error) {
        summary.failed++;
        summary.errors.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return summary;
}
