// Keeps a replica that holds an older Streamer from rolling the StatefulSet back. Several
// replicas of reconcile-children may work on one Streamer at once, each with the Streamer as it
// read it; applying generation N's pod template after N+1's would restart the media server
// twice more than needed (N+1 → N → N+1). So each StatefulSet apply records the Streamer
// generation it was built from, and is a compare-and-swap on the StatefulSet's resourceVersion:
// it lands only on the StatefulSet that was read, and only when that one was not built from a
// newer generation.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict } from '../kube/errors.ts';
import type { Streamer } from '../schema/streamer.ts';

/** On the StatefulSet's metadata (not the pod template, so it never restarts the Pod). */
export const STREAMER_GENERATION_ANNOTATION = 'streamer.flussonic.com/streamer-generation';

/** The Streamer generation the live object was last applied from, when it records one. */
export function appliedGeneration(live: KubeObject | null): number | undefined {
  const value = Number(live?.metadata.annotations?.[STREAMER_GENERATION_ANNOTATION]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The live object was applied from a newer generation of this same Streamer (same uid: a
 * Streamer recreated under the name starts again at generation 1) than `streamer`.
 */
export function isSupersededBy(streamer: Streamer, live: KubeObject | null): boolean {
  const generation = streamer.metadata.generation;
  const applied = appliedGeneration(live);
  if (generation === undefined || applied === undefined || applied <= generation) return false;
  return (live?.metadata.ownerReferences ?? []).some((ref) => ref.controller && ref.uid === streamer.metadata.uid);
}

/**
 * `desired` with the Streamer's generation recorded and, when `live` exists, its
 * resourceVersion as precondition (the apply fails with 409 if the object changed since).
 */
export function guardedApply<T extends KubeObject>(desired: T, streamer: Streamer, live: KubeObject | null): T {
  const metadata: KubeObject['metadata'] = { ...desired.metadata };
  if (streamer.metadata.generation !== undefined) {
    metadata.annotations = { ...metadata.annotations, [STREAMER_GENERATION_ANNOTATION]: String(streamer.metadata.generation) };
  }
  if (live?.metadata.resourceVersion) metadata.resourceVersion = live.metadata.resourceVersion;
  return { ...desired, metadata };
}

/** Reads of the object before a StatefulSet that keeps changing under the apply is left to a retry. */
const MAX_ATTEMPTS = 3;

/**
 * Reads `desired`'s live object and applies `desired` (forcing ownership) when `needed(live)`
 * and the live object was not built from a newer generation, with guardedApply's
 * compare-and-swap; a 409 reads and decides again. Returns the live object the apply replaced
 * (null: created), or undefined when nothing was applied.
 * @throws KubeApiError 409 after MAX_ATTEMPTS lost races (transient: the event is redelivered).
 */
export async function applyUnlessSuperseded({
  kube,
  desired,
  streamer,
  needed,
}: {
  kube: KubeClient;
  desired: KubeObject;
  streamer: Streamer;
  needed(live: KubeObject | null): boolean;
}): Promise<{ live: KubeObject | null } | undefined> {
  const key = { apiVersion: desired.apiVersion, kind: desired.kind, namespace: desired.metadata.namespace, name: desired.metadata.name };
  for (let attempt = 1; ; attempt++) {
    const live = await kube.get(key);
    if (!needed(live) || isSupersededBy(streamer, live)) return undefined;
    try {
      await kube.apply(guardedApply(desired, streamer, live), { force: true });
      return { live };
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
