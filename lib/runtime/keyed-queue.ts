// Per-key serialization with coalescing, inside one function process. Events
// about one Streamer arrive in bursts (its own status writes, the StatefulSet,
// the Pod); running them at once makes duplicate writes and duplicate Events.
// For each key at most one run is in progress and at most one waits; an event
// arriving while one waits joins it, because the waiting run reads the current
// state when it starts and so covers that event too. Across replicas the
// writes stay safe anyway (server-side apply, create-once, compare-and-swap).

export type QueuedRun<T> = { value: T; waited: boolean; coalesced: boolean };

export function createKeyedQueue() {
  const running = new Map<string, Promise<unknown>>();
  const waiting = new Map<string, Promise<QueuedRun<unknown>>>();

  return function enqueue<T>(key: string, task: (waited: boolean) => Promise<T>): Promise<QueuedRun<T>> {
    const queued = waiting.get(key) as Promise<QueuedRun<T>> | undefined;
    if (queued) return queued.then((run) => ({ ...run, coalesced: true }));

    const current = running.get(key);
    const start = async (waited: boolean): Promise<QueuedRun<T>> => {
      const promise = task(waited);
      running.set(key, promise);
      try {
        return { value: await promise, waited, coalesced: false };
      } finally {
        if (running.get(key) === promise) running.delete(key);
      }
    };
    if (!current) return start(false);

    const next = current.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      waiting.delete(key);
      return start(true);
    });
    waiting.set(key, next as Promise<QueuedRun<unknown>>);
    return next;
  };
}
