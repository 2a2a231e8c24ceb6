// Startup timing: one line per finished phase of a sandbox start (cluster, Knative install, the
// operator on it), with its own duration and the time since the clock started, so a slow start
// says where its time went. Lines go to the caller's log.
export type PhaseClock = {
  /** Logs `<scope> <phase>: <this phase> s (at <since start> s)` and starts the next phase. */
  (phase: string): void;
  /** Seconds since the clock started. */
  readonly total: number;
};

export function phaseClock(scope: string, log: (line: string) => void): PhaseClock {
  const started = Date.now();
  let last = started;
  const mark = (phase: string) => {
    const now = Date.now();
    log(`[phase] ${scope} ${phase}: ${((now - last) / 1000).toFixed(1)} s (at ${((now - started) / 1000).toFixed(1)} s)`);
    last = now;
  };
  return Object.defineProperty(mark, 'total', { get: () => (Date.now() - started) / 1000 }) as PhaseClock;
}
