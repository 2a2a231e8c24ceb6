// A cap on the events one process works on at once, and on the ones it holds waiting. Knative's
// queue-proxy enforces the Service's containerConcurrency (knative/service.yaml: 10) in front of
// a replica and queues at most ten times that before it answers 503, but the process should not
// rely on it: run elsewhere (`npm start`, another platform, a Service whose concurrency was
// raised), a burst of thousands of deliveries would each hold its socket, its parsed request and
// its promises at once, and the replica's memory would grow with the burst instead of staying
// flat. Requests over the cap wait here, holding only their request; requests over the waiting
// bound are refused at once (GateFullError), for the sender to retry later.
export type WorkGate = {
  run<T>(work: () => Promise<T>): Promise<T>;
  stats(): { running: number; waiting: number; maxRunning: number; mostWaiting: number; refused: number };
};

/** Thrown by `run` when `maxWaiting` runs already wait: nothing was started. */
export class GateFullError extends Error {
  readonly code = 'EVENTS_WAITING_FULL';
}

/**
 * At most `limit` (an integer ≥ 1) runs at once; the rest start in arrival order, at most
 * `maxWaiting` (an integer ≥ 0, default unbounded) of them waiting at a time.
 */
export function createWorkGate(limit: number, { maxWaiting = Number.POSITIVE_INFINITY }: { maxWaiting?: number } = {}): WorkGate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
  if (maxWaiting !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxWaiting) || maxWaiting < 0)) {
    throw new RangeError(`maxWaiting must be an integer >= 0, got ${maxWaiting}`);
  }
  let running = 0;
  let maxRunning = 0;
  let mostWaiting = 0;
  let refused = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(work) {
      if (running >= limit) {
        if (waiting.length >= maxWaiting) {
          refused++;
          throw new GateFullError(`${running} events in flight and ${waiting.length} waiting, the most this process holds; retry later`);
        }
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          mostWaiting = Math.max(mostWaiting, waiting.length);
        });
      } else running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next(); // the slot passes on as it is
        else running--;
      }
    },
    stats: () => ({ running, waiting: waiting.length, maxRunning, mostWaiting, refused }),
  };
}
