// Unsticking a rollout. The StatefulSet keeps the default OrderedReady policy, under which the
// controller replaces a Pod for an update only once it is Ready: with our single replica, a Pod
// that never becomes Ready (a bad version or image, a crash loop, a node it cannot be placed on)
// blocks the rollout of the fixed template forever - Kubernetes' documented "forced rollback"
// case, which otherwise needs someone to delete the Pod by hand.
//
// So reconcile-children does that delete itself, and only in that case: the StatefulSet
// controller has seen the current spec (observedGeneration), the Pod belongs to an older
// revision than the one being rolled out, and it is not Ready. Such a Pod would be replaced
// by the rollout as soon as it became Ready anyway; deleting it now only removes the wait.
// A Ready Pod, a Pod of the current revision and a Pod already terminating are never touched.
//
// Why not podManagementPolicy Parallel: the field is immutable, so moving existing StatefulSets
// to it means recreating each one (restarting every media server on an operator upgrade), and
// with the MaxUnavailableStatefulSet feature gate on, an unavailable Pod blocks an update under
// Parallel too.
import type { KubeObject } from '../kube/client.ts';

/** Label the StatefulSet controller puts on each Pod: the ControllerRevision it was made from. */
export const REVISION_LABEL = 'controller-revision-hash';

type SetView = KubeObject & { status?: { observedGeneration?: number; updateRevision?: string } };
type PodView = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

/** True when `pod` (of `set`) is an outdated, not-Ready Pod holding up the rollout of `set`'s current revision. */
export function blocksRollout(set: KubeObject, pod: KubeObject): boolean {
  const { metadata, status } = set as SetView;
  if (!status?.updateRevision || metadata.generation === undefined || status.observedGeneration !== metadata.generation) return false;
  if (pod.metadata.deletionTimestamp) return false;
  const revision = pod.metadata.labels?.[REVISION_LABEL];
  if (!revision || revision === status.updateRevision) return false;
  const ready = (pod as PodView).status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status !== 'True';
}
