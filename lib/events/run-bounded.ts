// Runs one task per item with a cap on tasks in flight and a random delay before each start,
// so a resync over every Streamer neither floods the API server nor fires all at once
// (operator-anchors.md, "thundering herd at resync").

export type RunBoundedOptions = {
  /** Most tasks running (or waiting out their jitter) at once; an integer ≥ 1. */
  concurrency: number;
  /** Upper bound of the random delay before each task starts. @default 0 */
  jitterMs?: number;
  /** Uniform [0, 1) source. @default Math.random */
  random?: () => number;
  /** Waits `ms` milliseconds. @default a setTimeout promise */
  sleep?: (ms: number) => Promise<void>;
};

export type RunSummary<T> = {
  ok: number;
  failed: number;
  /** One entry per failed item, in completion order. */
  errors: { item: T; error: unknown }[];
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `task` for every item, at most `concurrency` at a time, each after a random delay in
 * [0, jitterMs). A failing task does not stop the others; its error is collected. Resolves when
 * every task has settled. Throws RangeError for a concurrency that is not an integer ≥ 1.
 */
export async function runBounded<T>(
  items: readonly T[],
  task: (item: T) => Promise<void>,
  { concurrency, jitterMs = 0, random = Math.random, sleep = defaultSleep }: RunBoundedOptions,
): Promise<RunSummary<T>> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const summary: RunSummary<T> = { ok: 0, failed: 0, errors: [] };
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        if (jitterMs > 0) await sleep(Math.floor(random() * jitterMs));
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
