// reconcile-children's resync check (lib/runtime/resync.ts): from the lists of its children,
// which Streamers reconcileChildren would write for. The same builders and the same drift
// rule (drift.ts needsApply) as children.ts, applied to listed objects instead of reads: a
// child missing, stamped from another spec, or with an owned field edited by hand differs; so
// does a StatefulSet a newer generation did not supersede, and a running Pod whose hot
// metadata differs. Anything else needs no work.
//
// The <name>-license-storage Secret and the <name>-config ConfigMap are not listed: the operator
// holds no list permission on Secrets or ConfigMaps, on purpose (knative/base/rbac-operator.yaml:
// they may hold credentials, and cannot be enumerated). What they hold follows from the spec,
// so a spec generation the children were not brought to is seen on the Streamer itself:
// ChildrenReady (reconcile-children's own condition) not True for the current generation. A
// hand edit or deletion of either reaches reconcile-children as that object's own event; only
// such an event lost waits for the next event about that Streamer.
import type { KubeObject } from '../kube/client.ts';
import { childNames, type ChildNames } from '../k8s/meta.ts';
import { buildPodMetadata } from '../k8s/pod-metadata.ts';
import { buildRoleBinding } from '../k8s/role-binding.ts';
import { buildRole } from '../k8s/role.ts';
import { buildServiceAccount } from '../k8s/service-account.ts';
import { buildService } from '../k8s/service.ts';
import { buildStatefulSet } from '../k8s/stateful-set.ts';
import type { ResyncCheck } from '../runtime/resync.ts';
import type { Streamer } from '../schema/streamer.ts';
import { findCondition } from '../status/condition.ts';
import { needsApply, stampHash } from './drift.ts';
import { isSupersededBy } from './stale-generation.ts';

type Child = { apiVersion: string; kind: string; name: keyof ChildNames; build(streamer: Streamer): object };

/** The children listed (all but the Secret and the ConfigMap), each of which must exist. */
const CHILDREN: readonly Child[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', name: 'serviceAccount', build: buildServiceAccount },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', name: 'role', build: buildRole },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: 'roleBinding', build: buildRoleBinding },
  { apiVersion: 'v1', kind: 'Service', name: 'headlessService', build: buildService },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'statefulSet', build: buildStatefulSet },
];

const stamped = (child: Child, streamer: Streamer) => stampHash(child.build(streamer) as KubeObject);

/** Kept per listed child: does reconcileChildren have something to write for it. */
function drifted(streamer: Streamer, kind: string, live: KubeObject): boolean {
  if (kind === 'Pod') {
    const owned = (live.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'StatefulSet' && r.name === childNames(streamer).statefulSet);
    return owned && !live.metadata.deletionTimestamp && needsApply(stampHash(buildPodMetadata(streamer) as KubeObject), live);
  }
  const child = CHILDREN.find((c) => c.kind === kind);
  if (!child) return false;
  if (kind === 'StatefulSet') return needsApply(stamped(child, streamer), live) && !isSupersededBy(streamer, live);
  return needsApply(stamped(child, streamer), live);
}

/** reconcile-children's condition (lib/reconcile/children-condition.ts) records the generation it converged. */
const CHILDREN_READY = 'ChildrenReady';

/** The children were not reported converged for the Streamer's current generation. */
function generationBehind(streamer: Streamer): boolean {
  const reported = findCondition(streamer, CHILDREN_READY);
  return reported?.status !== 'True' || reported.observedGeneration !== streamer.metadata.generation;
}

export const childrenResyncCheck: ResyncCheck<boolean> = {
  kinds: [
    ...CHILDREN.map((c) => ({ apiVersion: c.apiVersion, kind: c.kind, nameOf: (s: Streamer) => childNames(s)[c.name] })),
    // Only the Pod's metadata is compared (its owner, deletion and hot labels and annotations).
    { apiVersion: 'v1', kind: 'Pod', nameOf: (s: Streamer) => childNames(s).pod, metadataOnly: true },
  ],
  keep: drifted,
  // A missing child differs; a missing Pod is the StatefulSet controller's to make.
  differs: (streamer, kept) => generationBehind(streamer) || CHILDREN.some((c) => kept[c.kind] !== false) || kept.Pod === true,
};
