// A cap on the events one process works on at once. Knative's queue-proxy enforces the
// Service's containerConcurrency (knative/service.yaml: 10) in front of a replica, but the
// process should not rely on it: run elsewhere (`npm start`, another platform, a Service whose
// concurrency was raised), a burst of hundreds of events would each hold its parsed Streamer,
// its API responses and its promises at once, and the replica's memory would grow with the
// burst instead of staying flat. Requests over the cap wait here, holding only their request.
export type WorkGate = {
  run<T>(work: () => Promise<T>): Promise<T>;
  stats(): { running: number; waiting: number; maxRunning: number };
};

/** At most `limit` (an integer ≥ 1) runs at once; the rest start in arrival order. */
export function createWorkGate(limit: number): WorkGate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
  let running = 0;
  let maxRunning = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(work) {
      if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next(); // the slot passes on as it is
        else running--;
      }
    },
    stats: () => ({ running, waiting: waiting.length, maxRunning }),
  };
}
