// Per-key serialization with coalescing, inside one function process. Events
// about one Streamer arrive in bursts (its own status writes, the StatefulSet,
// the Pod); running them at once makes duplicate writes and duplicate Events.
// For each key at most one run is in progress and at most one waits; an event
// arriving while one waits joins it, because the waiting run reads the current
// state when it starts and so covers that event too. Across replicas the
// writes stay safe anyway (server-side apply, create-once, compare-and-swap).
//
// A joiner of a run whose own caller is retried when it fails (an event's: its
// delivery answers 5xx and the Broker sends it again, and the retry reads the
// current state) answers at once: waiting would only hold one of the replica's
// containerConcurrency request slots for two runs' time, and under a burst most
// slots were held so, by events about the same few Streamers. A joiner of any
// other run (a resync tick's, whose per-Streamer failure nobody retries) waits
// for it and shares its outcome.

export type QueuedRun<T> = { value: T; waited: boolean; coalesced: boolean };
/** Joined a waiting run that its own caller's retry stands behind, and answered at once. */
export type JoinedRun = { value: undefined; waited: false; coalesced: true; atOnce: true };

export function createKeyedQueue() {
  const running = new Map<string, Promise<unknown>>();
  const waiting = new Map<string, { run: Promise<QueuedRun<unknown>>; retried: boolean }>();

  /** `retried`: this caller is sent again when its run fails (see above). */
  return function enqueue<T>(key: string, task: (waited: boolean) => Promise<T>, { retried = false }: { retried?: boolean } = {}): Promise<QueuedRun<T> | JoinedRun> {
    const queued = waiting.get(key);
    if (queued?.retried) return Promise.resolve({ value: undefined, waited: false, coalesced: true, atOnce: true });
    if (queued) return (queued.run as Promise<QueuedRun<T>>).then((run) => ({ ...run, coalesced: true }));

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
    waiting.set(key, { run: next as Promise<QueuedRun<unknown>>, retried });
    return next;
  };
}
