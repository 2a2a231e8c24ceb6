// Sees a namespace's Streamers and their seven children appear, through direct
// watches on the API server (one per kind), so "all children exist" is the
// time the last child's ADDED event was read, not a polling interval.
//
// Every wait here fails at once when one of the watches broke (watch.ts says
// which and why), and on its deadline says what was still missing and what
// each watch had delivered, instead of waiting out its timeout in silence.
import type { KubeTransport } from '../lib/kube/client.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { CHILD_KINDS } from '../test/reconcile/helpers.ts';
import { openWatch, type Watch, type WatchEvent } from './watch.ts';

export type ChildTracker = {
  /** When the Streamer's own ADDED event was read (the watch floor of its create). */
  streamerSeenAt(name: string): number | undefined;
  /** When the last of its seven children was first seen, once all seven were. */
  childrenAt(name: string): number | undefined;
  /** The child kinds of `name` not seen yet. */
  missingKinds(name: string): string[];
  /** Resolves with childrenAt(name); rejects when a watch broke, or after timeoutMs. */
  waitChildren(name: string, timeoutMs: number): Promise<number>;
  /** Polls `check` every intervalMs until it returns a value; same failure rules as waitChildren. */
  waitWatched<T>(what: string, check: () => T | undefined, options: { timeoutMs: number; intervalMs?: number }): Promise<T>;
  /** Every Streamer event read so far (for conditions), in order. */
  readonly streamerEvents: WatchEvent[];
  /** One line per watch: events delivered, resumes, last resourceVersion. */
  describe(): string;
  close(): Promise<void>;
};

export class WatchBrokenError extends Error {
  readonly code = 'WATCH_BROKEN';
}

export class WatchWaitTimeoutError extends Error {
  readonly code = 'WATCH_WAIT_TIMEOUT';
}

export async function trackChildren({ transport, namespace }: { transport: KubeTransport; namespace: string }): Promise<ChildTracker> {
  const firstSeen = new Map<string, number>(); // `${kind}/${name}`
  const streamerEvents: WatchEvent[] = [];
  const watches: Watch[] = [];
  const remember = (kind: string, event: WatchEvent) => {
    const key = `${kind}/${event.object.metadata.name}`;
    // A resumed watch replays every event after its last resourceVersion, so no ADDED is lost.
    if (event.type === 'ADDED' && !firstSeen.has(key)) firstSeen.set(key, event.at);
  };
  try {
    watches.push(await openWatch({
      transport, apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace,
      onEvent(event) {
        streamerEvents.push(event);
        remember(STREAMER_KIND, event);
      },
    }));
    for (const [apiVersion, kind] of CHILD_KINDS) {
      watches.push(await openWatch({ transport, apiVersion, kind, namespace, onEvent: (event) => remember(kind, event) }));
    }
  } catch (error) {
    await Promise.all(watches.map((w) => w.close()));
    throw error;
  }

  const missingKinds = (name: string) => CHILD_KINDS.filter(([, kind, suffix]) => !firstSeen.has(`${kind}/${name}-${suffix}`)).map(([, kind]) => kind);
  const childrenAt = (name: string) => {
    let last = 0;
    for (const [, kind, suffix] of CHILD_KINDS) {
      const at = firstSeen.get(`${kind}/${name}-${suffix}`);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  };
  const describe = () =>
    watches.map((w) => `${w.label}: ${w.stats.events} events, ${w.stats.resumes} resumes, rv ${w.stats.resourceVersion ?? '–'}${w.error ? ' (broken)' : ''}`).join('; ');

  async function waitWatched<T>(what: string, check: () => T | undefined, { timeoutMs, intervalMs = 5 }: { timeoutMs: number; intervalMs?: number }): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const broken = watches.find((w) => w.error);
      if (broken) throw new WatchBrokenError(`waiting for ${what}: ${broken.error!.message}`, { cause: broken.error });
      const value = check();
      if (value !== undefined) return value;
      if (performance.now() >= deadline) throw new WatchWaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; watches: ${describe()}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  return {
    streamerSeenAt: (name) => firstSeen.get(`${STREAMER_KIND}/${name}`),
    childrenAt,
    missingKinds,
    waitChildren(name, timeoutMs) {
      return waitWatched(`all seven children of ${namespace}/${name}`, () => childrenAt(name), { timeoutMs }).catch((error: unknown) => {
        if (error instanceof WatchWaitTimeoutError) {
          throw new WatchWaitTimeoutError(`${error.message}; not seen: ${missingKinds(name).join(', ')}`, { cause: error });
        }
        throw error;
      });
    },
    waitWatched,
    streamerEvents,
    describe,
    async close() {
      await Promise.all(watches.map((w) => w.close()));
    },
  };
}
