// Taken names. A child's name is fixed by the Streamer's name (k8s/meta.ts), so an object of that
// kind and name may already exist without being ours: a user's own ConfigMap, a leftover of a
// deleted Streamer of the same name, something another controller made. The rule: an object is
// ours only when its controller owner reference carries this Streamer's uid. Anything else is
// never modified, adopted or deleted; the Streamer reports the conflict until the user resolves
// it. Children controlled by the same uid are adopted, whoever made them (this is how a Streamer
// first run by Flussonic's own operator moves to this one).
import type { KubeObject, OwnerReference } from '../kube/client.ts';
import type { Streamer } from '../schema/streamer.ts';

/** One child name taken by an object this Streamer does not control. */
export type ChildConflict = {
  kind: string;
  namespace: string;
  name: string;
  /** Who controls it instead, in words: "no controller", "Streamer simple (uid 1234…)", ... */
  holder: string;
  /** It is controlled by a deleted Streamer of the same name and goes with the garbage collector. */
  leftover: boolean;
};

/** The controller owner reference of an object, if any (Kubernetes allows at most one). */
export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return (object.metadata.ownerReferences ?? []).find((reference) => reference.controller === true);
}

/** True when `object` is controlled by this Streamer (same uid, not merely the same name). */
export function isControlledBy(object: KubeObject, streamer: Streamer): boolean {
  return controllerOf(object)?.uid === streamer.metadata.uid;
}

/** The conflict `live` makes for `streamer`, or null when it is absent or ours. */
export function conflictOf(live: KubeObject | null, streamer: Streamer): ChildConflict | null {
  if (!live || isControlledBy(live, streamer)) return null;
  const controller = controllerOf(live);
  const sameName = controller?.kind === streamer.kind && controller.name === streamer.metadata.name;
  return {
    kind: live.kind,
    namespace: live.metadata.namespace ?? streamer.metadata.namespace,
    name: live.metadata.name,
    holder: controller ? `controlled by ${controller.kind} ${controller.name}${sameName ? ` uid ${controller.uid}` : ''}` : 'no controller',
    leftover: sameName,
  };
}

/**
 * A child name is taken (see the top of this file). Permanent: the same event fails the same way
 * until the user acts, so it is reported on the Streamer (ChildrenReady False, with this message)
 * and not retried; the fix (deleting or renaming the object) converges at the next event or resync.
 *
 * Contract with the reporting side (lib/kube/permanent.ts): `code` CHILD_CONFLICT, `permanent`
 * true, `kind` and `name` of the (first) object in the way, so `name` here is the object's name,
 * not the class name (identify the class by `code` or instanceof). `conflicts` lists all of them.
 */
export class ChildConflictError extends Error {
  readonly code = 'CHILD_CONFLICT' as const;
  readonly permanent = true as const;
  readonly kind: string;
  override readonly name: string;
  readonly conflicts: readonly ChildConflict[];
  constructor(conflicts: readonly [ChildConflict, ...ChildConflict[]]) {
    super(conflictMessage(conflicts));
    this.conflicts = conflicts;
    this.kind = conflicts[0].kind;
    this.name = conflicts[0].name;
  }
}

function conflictMessage(conflicts: readonly ChildConflict[]): string {
  // Short on purpose: it becomes a condition message (capped at 300 characters by the reporter).
  // Names without the namespace: it is the Streamer's own.
  const leftovers = conflicts.filter((c) => c.leftover);
  const taken = conflicts.filter((c) => !c.leftover);
  const list = (items: ChildConflict[], holders = true) => items.map((c) => (holders ? `${c.kind} ${c.name} (${c.holder})` : `${c.kind} ${c.name}`)).join(', ');
  const parts: string[] = [];
  if (taken.length === 1) parts.push(`${list(taken)} exists and is not controlled by this Streamer: left untouched; delete or rename it to converge`);
  if (taken.length > 1) parts.push(`${list(taken)} exist and are not controlled by this Streamer: left untouched; delete or rename them to converge`);
  if (leftovers.length > 0) parts.push(`${list(leftovers, false)} ${leftovers.length === 1 ? 'is' : 'are'} left by a deleted Streamer of the same name: converges when the garbage collector removes ${leftovers.length === 1 ? 'it' : 'them'}`);
  return parts.join('; ');
}
