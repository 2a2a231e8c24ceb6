// The running media server Pod `<name>-streamer-0`: the third step of reconcile-children. It
// belongs to the StatefulSet, never to us, so it is only touched when its controller is the
// StatefulSet this Streamer controls (by uid, not name), and only in two ways:
// - an outdated Pod that is not Ready and holds up a rollout is deleted (stuck-rollout.ts);
// - otherwise its hot labels and annotations are applied (k8s/pod-metadata.ts).
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, isNotFound, KubeApiError } from '../kube/errors.ts';
import { buildPodMetadata } from '../k8s/pod-metadata.ts';
import type { Streamer } from '../schema/streamer.ts';
import { controllerOf } from './child-conflict.ts';
import { needsApply, stampHash } from './drift.ts';
import { blocksRollout } from './stuck-rollout.ts';

/** A separate manager for the live Pod's hot metadata, so removing a label there removes only ours. */
export const POD_FIELD_MANAGER = 'streamer-operator-pod-metadata';

export type PodOutcome = { patched: boolean; replaced: boolean };

export async function reconcilePod(kube: KubeClient, streamer: Streamer, statefulSet: KubeObject): Promise<PodOutcome> {
  const none: PodOutcome = { patched: false, replaced: false };
  const desired = stampHash(buildPodMetadata(streamer) as KubeObject);
  const key = { apiVersion: 'v1', kind: 'Pod', namespace: desired.metadata.namespace, name: desired.metadata.name };
  const pod = await kube.get(key);
  if (!pod || pod.metadata.deletionTimestamp || controllerOf(pod)?.uid !== statefulSet.metadata.uid) return none;
  if (blocksRollout(statefulSet, pod)) {
    try {
      await kube.delete(key, { preconditions: { uid: pod.metadata.uid } });
    } catch (error) {
      // 409: the uid precondition failed, the Pod was already replaced.
      if (isConflict(error)) return none;
      throw error;
    }
    return { patched: false, replaced: true };
  }
  if (!needsApply(desired, pod)) return none;
  // The uid precondition makes sure the metadata lands on the Pod we read, not a replacement.
  try {
    await kube.apply({ ...desired, metadata: { ...desired.metadata, uid: pod.metadata.uid } }, { force: true, fieldManager: POD_FIELD_MANAGER });
  } catch (error) {
    // The Pod was replaced (or deleted) since we read it: the new Pod's add event brings it here again.
    // (With force, a 409 can only be the uid precondition: the API server says "uid mismatch"
    // when the Pod is gone, and 422 "metadata.uid ... immutable" when a new one took its name.)
    if (isNotFound(error) || isConflict(error) || (error instanceof KubeApiError && error.statusCode === 422 && error.message.includes('metadata.uid'))) return none;
    throw error;
  }
  return { patched: true, replaced: false };
}
