// reconcile-children's core: make a Streamer's seven children match the pure
// builders, level-based and idempotent. Reads the current state (never the
// event payload), writes only what differs, and reports what it did.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, isNotFound, KubeApiError } from '../kube/errors.ts';
import { recordEvent, type StreamerEvent } from '../kube/events.ts';
import { buildConfigMap } from '../k8s/config-map.ts';
import { buildPodMetadata } from '../k8s/pod-metadata.ts';
import { buildRoleBinding } from '../k8s/role-binding.ts';
import { buildRole } from '../k8s/role.ts';
import { buildServiceAccount } from '../k8s/service-account.ts';
import { buildService } from '../k8s/service.ts';
import { buildStatefulSet } from '../k8s/stateful-set.ts';
import { childNames } from '../k8s/meta.ts';
import type { Streamer } from '../schema/streamer.ts';
import { isSubset, needsApply, stampHash } from './drift.ts';
import { ensureLicenseStorage } from './license-storage.ts';
import { applyUnlessSuperseded } from './stale-generation.ts';

/** Field manager of everything reconcile-children applies. */
export const FIELD_MANAGER = 'streamer-operator';
/** A separate manager for the live Pod's hot metadata, so removing a label there removes only ours. */
export const POD_FIELD_MANAGER = 'streamer-operator-pod-metadata';

export type ChildrenOutcome = {
  created: string[];
  updated: string[];
  /** The StatefulSet's pod template changed: the Pod is being replaced. */
  restarted: boolean;
  /** Hot metadata applied to the running Pod. */
  podPatched: boolean;
};

export async function reconcileChildren({
  kube,
  streamer,
  reportingInstance = 'reconcile-children',
  random,
}: {
  kube: KubeClient;
  streamer: Streamer;
  reportingInstance?: string;
  random?: (size: number) => Uint8Array;
}): Promise<ChildrenOutcome> {
  const outcome: ChildrenOutcome = { created: [], updated: [], restarted: false, podPatched: false };
  const note = (kind: string, live: KubeObject | null) => (live ? outcome.updated : outcome.created).push(kind);

  const ensure = async (desired: KubeObject) => {
    const live = await kube.get(keyOf(desired));
    if (!needsApply(desired, live)) return;
    await kube.apply(desired, { force: true });
    note(desired.kind, live);
  };
  const stamped = (object: object) => stampHash(object as KubeObject);

  // Three waves, each read and applied at once (three round trips deep instead of eight):
  // 1. what depends on nothing;
  // 2. the RoleBinding, which needs its Role (RBAC resolves the Role to check that the
  //    operator does not escalate), and the StatefulSet, which needs the ServiceAccount,
  //    ConfigMap and Secret so its Pod never starts without them;
  // 3. the running Pod's hot metadata.
  const [secret] = await Promise.all([
    ensureLicenseStorage({ kube, streamer, random }),
    ...[buildServiceAccount(streamer), buildRole(streamer), buildService(streamer), buildConfigMap(streamer)].map((o) => ensure(stamped(o))),
  ]);
  if (secret === 'created') outcome.created.push('Secret');
  else if (secret !== 'unchanged') outcome.updated.push('Secret');

  const statefulSet = stamped(buildStatefulSet(streamer));
  const applyStatefulSet = async () => {
    // Never onto a StatefulSet built from a newer generation (stale-generation.ts).
    const applied = await applyUnlessSuperseded({ kube, desired: statefulSet, streamer, needed: (live) => needsApply(statefulSet, live) });
    if (!applied) return;
    const template = (o: KubeObject | null) => (o?.spec as { template?: unknown } | undefined)?.template;
    outcome.restarted = applied.live !== null && !isSubset(template(statefulSet), template(applied.live));
    note('StatefulSet', applied.live);
  };
  await Promise.all([ensure(stamped(buildRoleBinding(streamer))), applyStatefulSet()]);

  outcome.podPatched = await applyPodMetadata(kube, streamer);

  for (const event of eventsFor(streamer, outcome)) {
    await recordEvent(kube, { regarding: streamer as unknown as KubeObject, reportingInstance, event });
  }
  return outcome;
}

/** Hot labels/annotations onto the running Pod, when it exists and they differ. */
async function applyPodMetadata(kube: KubeClient, streamer: Streamer): Promise<boolean> {
  const desired = stampHash(buildPodMetadata(streamer) as KubeObject);
  const pod = await kube.get(keyOf(desired));
  if (!pod || pod.metadata.deletionTimestamp || !ownedBySet(pod, childNames(streamer).statefulSet)) return false;
  if (!needsApply(desired, pod)) return false;
  // The uid precondition makes sure the metadata lands on the Pod we read, not a replacement.
  try {
    await kube.apply({ ...desired, metadata: { ...desired.metadata, uid: pod.metadata.uid } }, { force: true, fieldManager: POD_FIELD_MANAGER });
  } catch (error) {
    // The Pod was replaced (or deleted) since we read it: the new Pod's add event brings it here again.
    // (With force, a 409 can only be the uid precondition: the API server says "uid mismatch"
    // when the Pod is gone, and 422 "metadata.uid ... immutable" when a new one took its name.)
    if (isNotFound(error) || isConflict(error) || (error instanceof KubeApiError && error.statusCode === 422 && error.message.includes('metadata.uid'))) return false;
    throw error;
  }
  return true;
}

function ownedBySet(pod: KubeObject, setName: string): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'StatefulSet' && r.name === setName);
}

function eventsFor(streamer: Streamer, outcome: ChildrenOutcome): StreamerEvent[] {
  const events: StreamerEvent[] = [];
  if (outcome.created.length > 0) {
    events.push({ type: 'Normal', reason: 'ChildrenCreated', action: 'Create', note: `created ${outcome.created.join(', ')}` });
  }
  if (outcome.restarted) {
    events.push({ type: 'Normal', reason: 'SpecChangeRestart', action: 'Update', note: 'the pod template changed: the media server Pod is being replaced' });
  }
  const touched = outcome.created.includes('StatefulSet') || outcome.restarted;
  if (touched && isLatest(streamer.spec.version)) {
    events.push({ type: 'Warning', reason: 'LatestVersion', action: 'Update', note: `version "${streamer.spec.version}" is not a pinned release; latest is strongly discouraged` });
  }
  return events;
}

function isLatest(version: string): boolean {
  return /^(latest|v?)$/i.test(version.trim());
}

function keyOf(object: KubeObject) {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
