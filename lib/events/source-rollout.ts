// An event source's adapter finished rolling out: the signal to resync at once.
//
// Knative's ApiServerSource controller writes the list of watched namespaces into each adapter
// Deployment's configuration even for `namespaceSelector: {}` (eventing v0.49.2
// reconciler/apiserversource: namespacesFromSelector, resources/receive_adapter.go makeEnv), so
// creating or deleting any namespace rolls both adapters. While the old adapter stops and the new
// one lists, nobody watches; and a new adapter sends nothing for objects that already exist (its
// store's Replace is a no-op). The `source-adapters` ApiServerSource (knative/base/sources.yaml)
// watches those Deployments in the operator's namespace only, so namespace changes never roll it;
// when one of them has rolled out, a resync repairs whatever the gap lost within seconds instead
// of at the next PingSource tick.
import type { ObjectRef } from './event-types.ts';

/** The label the ApiServerSource controller puts on every adapter Deployment (resources/labels.go). */
export const ADAPTER_LABEL = 'eventing.knative.dev/source';
export const ADAPTER_LABEL_VALUE = 'apiserver-source-controller';

/** Whether an event is about a Deployment (the only Deployments we are sent are adapters). */
export function isDeploymentRef(ref: ObjectRef): boolean {
  return ref.kind === 'Deployment' && ref.apiVersion === 'apps/v1';
}

type DeploymentLike = {
  metadata?: { uid?: string; resourceVersion?: string; generation?: number; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
};

/**
 * Whether `object` is an ApiServerSource adapter whose rollout is complete: the controller has
 * seen its latest spec, and every replica is updated and available with no old one left (what
 * `kubectl rollout status` waits for). During a rollout, and while the old Pod is still there,
 * and while it is being deleted, this is false; it turns true once, when the new adapter has
 * replaced the old one (and again after an adapter Pod was restarted).
 */
export function adapterRolledOut(object: unknown): boolean {
  const d = object as DeploymentLike | null;
  if (!d || d.metadata?.labels?.[ADAPTER_LABEL] !== ADAPTER_LABEL_VALUE) return false;
  // A source being deleted takes its adapter with it: nothing new will watch.
  if (d.metadata.deletionTimestamp) return false;
  const wanted = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
    && s.replicas === wanted && s.updatedReplicas === wanted && s.availableReplicas === wanted;
}

/**
 * The rolled-out states a replica has already resynced for, by adapter Deployment uid and
 * resourceVersion. The adapter watching the adapters sends `ref.update` again for a Deployment
 * that did not change (seen on real Knative: every ~5 s, the same resourceVersion, while the
 * functions were resyncing for it), so "rolled out" alone would resync on every one of them, a
 * loop of full resyncs at rest. A new rollout, or a restarted adapter Pod becoming available
 * again, writes the Deployment's status: a new resourceVersion, one resync. Each replica keeps its
 * own (a cold replica resyncs once for the current state); bounded, oldest first out.
 */
export class RolloutMemo {
  readonly #seen = new Map<string, string>();
  readonly #max: number;
  constructor(max = 64) {
    this.#max = max;
  }

  /** True the first time this Deployment state is seen by this replica; false for a repeat. */
  first(object: unknown): boolean {
    const m = (object as DeploymentLike | null)?.metadata;
    if (!m?.uid || !m.resourceVersion) return true;
    if (this.#seen.get(m.uid) === m.resourceVersion) return false;
    this.#seen.delete(m.uid);
    this.#seen.set(m.uid, m.resourceVersion);
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!);
    return true;
  }
}
