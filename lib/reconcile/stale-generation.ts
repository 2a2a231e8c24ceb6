// Keeps a replica that holds an older Streamer from rolling the StatefulSet back. Several
// replicas of reconcile-children may work on one Streamer at once, each with the Streamer as it
// read it; applying generation N's pod template after N+1's would restart the media server
// twice more than needed (N+1 → N → N+1). So each StatefulSet apply records the Streamer
// generation it was built from, and is a compare-and-swap on the StatefulSet's resourceVersion:
// it lands only on the StatefulSet that was read, and only when that one was not built from a
// newer generation.
import type { KubeObject } from '../kube/client.ts';
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

