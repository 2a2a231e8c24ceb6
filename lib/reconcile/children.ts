// reconcile-children's core: make a Streamer's seven children match the pure
// builders, level-based and idempotent. Reads the current state (never the
// event payload), writes only what differs, and reports what it did.
//
// Lifecycle rules on top of "apply what differs":
// - only children this Streamer controls (by uid) are written; a name taken by anything else is
//   left alone and reported (child-conflict.ts), and the children that depend on it wait;
// - a child whose immutable fields must change is deleted and created again (immutable.ts); the
//   StatefulSet in the foreground, so its Pod goes first, and its delete event brings the create;
// - an outdated Pod that is not Ready is deleted so a rollout cannot stick (stuck-rollout.ts);
// - nothing is created for a Streamer that is gone (StreamerGoneError ends the reconcile).
//
// A pass may be narrowed to the one child kind an event names (`only`): with the Streamer's
// generation already converged, an event about one child (its drift, a status update, a new
// Pod) can only have changed that child, so only it is read (and the StatefulSet's Pod after
// the StatefulSet, the StatefulSet before its Pod). A narrowed pass that would create anything
// (the child was deleted) runs the full pass instead, so creation keeps the waves' order.
import type { KubeClient, KubeObject, ObjectKey } from '../kube/client.ts';
import { isConflict } from '../kube/errors.ts';
import { recordEvent, type StreamerEvent } from '../kube/events.ts';
import { buildConfigMap } from '../k8s/config-map.ts';
import { buildRoleBinding } from '../k8s/role-binding.ts';
import { buildRole } from '../k8s/role.ts';
import { buildServiceAccount } from '../k8s/service-account.ts';
import { buildService } from '../k8s/service.ts';
import { buildStatefulSet } from '../k8s/stateful-set.ts';
import { MANAGED_BY_LABEL } from '../k8s/meta.ts';
import { streamerGone, StreamerGoneError } from '../events/streamer-gone.ts';
import type { Streamer } from '../schema/streamer.ts';
import { ChildConflictError, conflictOf, type ChildConflict } from './child-conflict.ts';
import { APPLIED_HASH_ANNOTATION, isSubset, needsApply, stampHash } from './drift.ts';
import { immutableChanges } from './immutable.ts';
import { ensureLicenseStorage } from './license-storage.ts';
import { guardedApply, isSupersededBy } from './stale-generation.ts';
import { reconcilePod } from './pod.ts';

export { POD_FIELD_MANAGER } from './pod.ts';

/** Field manager of everything reconcile-children applies. */
export const FIELD_MANAGER = 'streamer-operator';

export type ChildrenOutcome = {
  created: string[];
  updated: string[];
  /** The StatefulSet's pod template changed: the Pod is being replaced. */
  restarted: boolean;
  /** Hot metadata applied to the running Pod. */
  podPatched: boolean;
  /** Children deleted to be created again, with the immutable fields that forced it. */
  recreated: { kind: string; changes: string[] }[];
  /**
   * Children waiting on Kubernetes (a StatefulSet in foreground deletion): not converged yet.
   * Its delete event, or the next resync, brings the next step.
   */
  pending: string[];
  /** An outdated Pod that was not Ready was deleted so the StatefulSet can roll out. */
  podReplaced: boolean;
};

/** The child kinds a narrowed pass can be limited to: the seven children and the running Pod. */
export const CHILD_KINDS = ['ServiceAccount', 'Role', 'Service', 'ConfigMap', 'Secret', 'RoleBinding', 'StatefulSet', 'Pod'] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

export function isChildKind(kind: string): kind is ChildKind {
  return (CHILD_KINDS as readonly string[]).includes(kind);
}

/** A narrowed pass found something to create: the full pass takes over. */
class FullPassNeeded extends Error {
  override name = 'FullPassNeeded' as const;
}

export async function reconcileChildren(options: {
  kube: KubeClient;
  streamer: Streamer;
  reportingInstance?: string;
  random?: (size: number) => Uint8Array;
  /** Only this child (see the file comment); the full pass when it would create one. */
  only?: ChildKind;
}): Promise<ChildrenOutcome & { narrowed: boolean }> {
  // One outcome for both passes: a child the narrowed pass deleted to recreate (immutable
  // fields) is created by the full pass, and its Event still says why.
  const outcome: ChildrenOutcome = { created: [], updated: [], restarted: false, podPatched: false, recreated: [], pending: [], podReplaced: false };
  if (options.only) {
    try {
      await reconcilePass(options, outcome, options.only);
      return { ...outcome, narrowed: true };
    } catch (error) {
      if (!(error instanceof FullPassNeeded)) throw error;
    }
  }
  await reconcilePass(options, outcome, undefined);
  return { ...outcome, narrowed: false };
}

async function reconcilePass(
  { kube, streamer, reportingInstance = 'reconcile-children', random }: { kube: KubeClient; streamer: Streamer; reportingInstance?: string; random?: (size: number) => Uint8Array },
  outcome: ChildrenOutcome,
  only: ChildKind | undefined,
): Promise<void> {
  const wants = (kind: ChildKind) => only === undefined || only === kind;
  const fullPass = async () => {
    throw new FullPassNeeded();
  };
  const conflicts: ChildConflict[] = [];
  const note = (kind: string, live: KubeObject | null) => (live ? outcome.updated : outcome.created).push(kind);
  const stamped = (object: object) => stampHash(object as KubeObject);
  // A check that the Streamer still exists, made only when something is about to be created
  // (once per wave, and once more for the StatefulSet): a child created for a Streamer that is
  // already gone would be a dangling object until the garbage collector finds it, and for the
  // StatefulSet, a media server Pod.
  const aliveCheck = () => {
    if (only) return fullPass;
    let check: Promise<void> | undefined;
    return () =>
      (check ??= streamerGone(kube, streamer, { namespace: false }).then((reason) => {
        if (reason) throw new StreamerGoneError(reason);
      }));
  };
  /** Runs one child's step; a taken name is collected, not thrown, so the other children still converge. */
  const step = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ChildConflictError)) throw error;
      conflicts.push(...error.conflicts);
      return undefined;
    }
  };

  const ensure = async (desired: KubeObject, beforeCreate: () => Promise<void>) => {
    const key = keyOf(desired);
    let live = ours(await kube.get(key), streamer);
    if (live && !live.metadata.deletionTimestamp) {
      const changes = immutableChanges(desired, live);
      if (changes.length > 0) {
        await deleteSame(kube, key, live, 'Background');
        outcome.recreated.push({ kind: desired.kind, changes });
        live = await kube.get(key);
      }
    }
    if (live?.metadata.deletionTimestamp) {
      // Going away (held by a finalizer): its delete event brings the create.
      outcome.pending.push(desired.kind);
      return;
    }
    if (!needsApply(desired, live)) return;
    if (!live) await beforeCreate();
    else await dropForeignData(kube, desired, live);
    await kube.apply(desired, { force: true });
    note(desired.kind, live);
  };

  // Three waves, each read and applied at once (three round trips deep instead of eight):
  // 1. what depends on nothing;
  // 2. the RoleBinding, which needs its Role (RBAC resolves the Role to check that the
  //    operator does not escalate), and the StatefulSet, which needs the ServiceAccount,
  //    ConfigMap, Secret and Service so its Pod never starts without them (or with someone
  //    else's: a conflict in wave 1 stops here);
  // 3. the running Pod (none yet when wave 2 created the StatefulSet).
  const first = aliveCheck();
  const [secret] = await Promise.all([
    wants('Secret') ? step(() => ensureLicenseStorage({ kube, streamer, random, beforeCreate: first })) : undefined,
    ...[buildServiceAccount(streamer), buildRole(streamer), buildService(streamer), buildConfigMap(streamer)]
      .filter((o) => wants(o.kind as ChildKind))
      .map((o) => step(() => ensure(stamped(o), first))),
  ]);
  if (secret === 'created') outcome.created.push('Secret');
  else if (secret !== undefined && secret !== 'unchanged') outcome.updated.push('Secret');

  let statefulSet: KubeObject | null = null;
  if (conflicts.length === 0) {
    const second = aliveCheck();
    const [, set, podSet] = await Promise.all([
      wants('RoleBinding') ? step(() => ensure(stamped(buildRoleBinding(streamer)), second)) : undefined,
      // Its own check, made after its own read: creating it starts a media server Pod.
      wants('StatefulSet') ? step(() => reconcileStatefulSet(kube, streamer, stamped(buildStatefulSet(streamer)), outcome, aliveCheck())) : undefined,
      // A pass for the Pod alone needs the StatefulSet only as it stands (its uid and rollout).
      only === 'Pod' ? step(() => liveStatefulSet(kube, streamer)) : undefined,
    ]);
    statefulSet = set ?? podSet ?? null;
    if (only === 'Pod' && !statefulSet && conflicts.length === 0) throw new FullPassNeeded();
  }

  // A StatefulSet created in this pass controls no Pod yet (its controller makes or adopts one
  // next, and that Pod's event brings the Pod step): reconcilePod would read a Pod it may not touch.
  const justCreated = outcome.created.includes('StatefulSet');
  if (statefulSet && conflicts.length === 0 && (wants('StatefulSet') || wants('Pod')) && !justCreated) {
    const pod = await reconcilePod(kube, streamer, statefulSet);
    outcome.podPatched = pod.patched;
    outcome.podReplaced = pod.replaced;
  }

  for (const event of eventsFor(streamer, outcome)) {
    await recordEvent(kube, { regarding: streamer as unknown as KubeObject, reportingInstance, event });
  }
  const [conflict, ...more] = conflicts;
  if (conflict) throw new ChildConflictError([conflict, ...more]);
}

/** Compare-and-swap attempts on the StatefulSet, and the base of the backoff between them (at most ~1.6 s in all). */
const CAS_ATTEMPTS = 5;
const CAS_BACKOFF_MS = 80;

/**
 * The StatefulSet step. Returns the StatefulSet as it now stands when it is ours and current
 * (the Pod step needs its uid and rollout status), or null while it is being recreated.
 */
async function reconcileStatefulSet(
  kube: KubeClient,
  streamer: Streamer,
  desired: KubeObject,
  outcome: ChildrenOutcome,
  beforeCreate: () => Promise<void>,
  attempt = 1,
): Promise<KubeObject | null> {
  const key = keyOf(desired);
  const live = ours(await kube.get(key), streamer);
  // Never from an older generation than the live one was built from (stale-generation.ts).
  if (isSupersededBy(streamer, live)) return live;
  if (live?.metadata.deletionTimestamp) {
    // Our own foreground delete (or someone's) is under way: the old Pod goes first, then the
    // StatefulSet; its delete event brings the create.
    outcome.pending.push('StatefulSet');
    return null;
  }
  if (live) {
    const changes = immutableChanges(desired, live);
    if (changes.length > 0) {
      // The delete must be announced to us: the children source selects by this label, which a
      // StatefulSet made by another controller may lack.
      if (live.metadata.labels?.[MANAGED_BY_LABEL.key] !== MANAGED_BY_LABEL.value) {
        await kube.patch(key, { metadata: { labels: { [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value } } });
      }
      if (await deleteSame(kube, key, live, 'Foreground')) outcome.recreated.push({ kind: 'StatefulSet', changes });
      outcome.pending.push('StatefulSet');
      return null;
    }
  }
  if (!needsApply(desired, live)) return live;
  if (!live) await beforeCreate();
  const template = (o: KubeObject | null) => (o?.spec as { template?: unknown } | undefined)?.template;
  let applied: KubeObject;
  try {
    // A compare-and-swap on the StatefulSet read above: a 409 reads and decides again.
    applied = await kube.apply(guardedApply(desired, streamer, live), { force: true });
  } catch (error) {
    if (isConflict(error) && attempt < CAS_ATTEMPTS) {
      // The StatefulSet controller writes status several times in a row after a template change
      // (a hand edit, our own update); immediate re-reads can land inside that burst each time.
      await new Promise((resolve) => setTimeout(resolve, CAS_BACKOFF_MS * attempt * (1 + Math.random())));
      return reconcileStatefulSet(kube, streamer, desired, outcome, beforeCreate, attempt + 1);
    }
    throw error;
  }
  outcome.restarted = live !== null && !isSubset(template(desired), template(live));
  outcome[live ? 'updated' : 'created'].push('StatefulSet');
  return applied;
}

/** The StatefulSet when it is ours and not going away, else null (the full pass decides then). */
async function liveStatefulSet(kube: KubeClient, streamer: Streamer): Promise<KubeObject | null> {
  const desired = buildStatefulSet(streamer) as KubeObject;
  const live = ours(await kube.get(keyOf(desired)), streamer);
  return live && !live.metadata.deletionTimestamp ? live : null;
}

/** `live` when this Streamer controls it (or it is absent); a taken name throws ChildConflictError. */
function ours(live: KubeObject | null, streamer: Streamer): KubeObject | null {
  const conflict = conflictOf(live, streamer);
  if (conflict) throw new ChildConflictError([conflict]);
  return live;
}

/** Deletes the object we read, not a replacement of the same name; false when it was replaced or gone. */
async function deleteSame(kube: KubeClient, key: ObjectKey, live: KubeObject, propagationPolicy: 'Foreground' | 'Background'): Promise<boolean> {
  try {
    return await kube.delete(key, { propagationPolicy, preconditions: { uid: live.metadata.uid } });
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/**
 * Adopting a ConfigMap another controller made (it carries no applied hash of ours): its data
 * keys we do not write would stay beside ours, and every key is a file in the media server's
 * conf.d. They are removed once, at adoption; later, keys others add to our ConfigMap survive.
 */
async function dropForeignData(kube: KubeClient, desired: KubeObject, live: KubeObject): Promise<void> {
  if (desired.kind !== 'ConfigMap' || live.metadata.annotations?.[APPLIED_HASH_ANNOTATION]) return;
  const patch: Record<string, Record<string, null>> = {};
  for (const field of ['data', 'binaryData'] as const) {
    const wanted = (desired[field] as Record<string, unknown> | undefined) ?? {};
    const stale = Object.keys((live[field] as Record<string, unknown> | undefined) ?? {}).filter((k) => !(k in wanted));
    if (stale.length > 0) patch[field] = Object.fromEntries(stale.map((k) => [k, null]));
  }
  if (Object.keys(patch).length > 0) {
    await kube.patch(keyOf(live), { metadata: { resourceVersion: live.metadata.resourceVersion }, ...patch });
  }
}

function eventsFor(streamer: Streamer, outcome: ChildrenOutcome): StreamerEvent[] {
  const events: StreamerEvent[] = [];
  const name = streamer.metadata.name;
  for (const { kind, changes } of outcome.recreated) {
    const why = changes.map((c) => (c === 'spec.selector' ? 'spec.selector (from spec.selectorLabels)' : c)).join(', ');
    events.push(
      kind === 'StatefulSet'
        ? { type: 'Normal', reason: 'StatefulSetRecreated', action: 'Delete', note: `recreating StatefulSet ${name}-streamer: ${why} cannot change in place; the media server Pod is replaced, the license-storage Secret is kept` }
        : { type: 'Normal', reason: 'ChildRecreated', action: 'Delete', note: `recreated ${kind}: ${why} cannot change in place` },
    );
  }
  if (outcome.created.length > 0) {
    events.push({ type: 'Normal', reason: 'ChildrenCreated', action: 'Create', note: `created ${outcome.created.join(', ')}` });
  }
  if (outcome.restarted) {
    events.push({ type: 'Normal', reason: 'SpecChangeRestart', action: 'Update', note: 'the pod template changed: the media server Pod is being replaced' });
  }
  if (outcome.podReplaced) {
    events.push({ type: 'Normal', reason: 'StuckRolloutUnblocked', action: 'Delete', note: `deleted Pod ${name}-streamer-0: it runs an outdated revision and is not Ready, so the StatefulSet can roll out the current spec` });
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

function keyOf(object: KubeObject): ObjectKey {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
