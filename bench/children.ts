// Sees a namespace's Streamers and their seven children appear, through direct
// watches on the API server (one per kind), so "all children exist" is the
// time the last child's ADDED event was read, not a polling interval.
import type { KubeTransport } from '../lib/kube/client.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { CHILD_KINDS } from '../test/reconcile/helpers.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { openWatch, type Watch, type WatchEvent } from './watch.ts';

export type ChildTracker = {
  /** When the Streamer's own ADDED event was read (the watch floor of its create). */
  streamerSeenAt(name: string): number | undefined;
  /** When the last of its seven children was first seen, once all seven were. */
  childrenAt(name: string): number | undefined;
  /** Resolves with childrenAt(name), bounded by timeoutMs. */
  waitChildren(name: string, timeoutMs: number): Promise<number>;
  /** Every Streamer event read so far (for conditions), in order. */
  readonly streamerEvents: WatchEvent[];
  close(): Promise<void>;
};

export async function trackChildren({ transport, namespace }: { transport: KubeTransport; namespace: string }): Promise<ChildTracker> {
  const firstSeen = new Map<string, number>(); // `${kind}/${name}`
  const streamerEvents: WatchEvent[] = [];
  const watches: Watch[] = [];
  const remember = (event: WatchEvent) => {
    const key = `${event.object.kind}/${event.object.metadata.name}`;
    if (event.type === 'ADDED' && !firstSeen.has(key)) firstSeen.set(key, event.at);
  };
  try {
    watches.push(await openWatch({
      transport, apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace,
      onEvent(event) {
        streamerEvents.push(event);
        remember({ ...event, object: { ...event.object, kind: STREAMER_KIND } });
      },
    }));
    for (const [apiVersion, kind] of CHILD_KINDS) {
      watches.push(await openWatch({ transport, apiVersion, kind, namespace, onEvent: (event) => remember({ ...event, object: { ...event.object, kind } }) }));
    }
  } catch (error) {
    await Promise.all(watches.map((w) => w.close()));
    throw error;
  }

  const childrenAt = (name: string) => {
    let last = 0;
    for (const [, kind, suffix] of CHILD_KINDS) {
      const at = firstSeen.get(`${kind}/${name}-${suffix}`);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  };
  return {
    streamerSeenAt: (name) => firstSeen.get(`${STREAMER_KIND}/${name}`),
    childrenAt,
    waitChildren(name, timeoutMs) {
      return waitFor(`all seven children of ${namespace}/${name}`, async () => {
        const broken = watches.find((w) => w.error);
        if (broken) throw broken.error;
        return childrenAt(name);
      }, { timeoutMs, intervalMs: 5 });
    },
    streamerEvents,
    async close() {
      await Promise.all(watches.map((w) => w.close()));
    },
  };
}
