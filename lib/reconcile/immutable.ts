// Fields Kubernetes will not change in place. Server-side apply of a new value is refused (422)
// on every attempt, so an object whose immutable fields differ from what we want must be
// deleted and created again. Only objects this Streamer controls ever get here
// (child-conflict.ts); the caller decides how to delete (a StatefulSet in the foreground, so its
// Pod goes first).
import type { KubeObject } from '../kube/client.ts';
import { APPLIED_HASH_ANNOTATION, stableHash } from './drift.ts';

/** Why `live` cannot become `desired` by an apply: field paths and reasons, empty when it can. */
export function immutableChanges(desired: KubeObject, live: KubeObject): string[] {
  switch (desired.kind) {
    case 'StatefulSet':
      return statefulSetChanges(desired, live);
    case 'Service':
      return differs(spec(desired).clusterIP, spec(live).clusterIP ?? '') ? ['spec.clusterIP'] : [];
    case 'RoleBinding':
      return differs(desired.roleRef, live.roleRef) ? ['roleRef'] : [];
    default:
      return [];
  }
}

/**
 * A StatefulSet's selector and serviceName are immutable (apps/v1 validation allows only
 * replicas, template, updateStrategy, ordinals, minReadySeconds and the PVC retention policy to
 * change). A StatefulSet another controller made (no applied-hash annotation: every apply of
 * ours stamps one) is recreated too: applying our template over theirs would merge the two
 * (their containers, volumes and env stay beside ours), and the Pod restarts either way.
 */
function statefulSetChanges(desired: KubeObject, live: KubeObject): string[] {
  const changes: string[] = [];
  const liveSelector = spec(live).selector as { matchLabels?: unknown; matchExpressions?: unknown[] } | undefined;
  const desiredSelector = spec(desired).selector as { matchLabels?: unknown } | undefined;
  if (differs(desiredSelector?.matchLabels ?? {}, liveSelector?.matchLabels ?? {}) || (liveSelector?.matchExpressions?.length ?? 0) > 0) {
    changes.push('spec.selector');
  }
  if (differs(spec(desired).serviceName, spec(live).serviceName)) changes.push('spec.serviceName');
  if (!live.metadata.annotations?.[APPLIED_HASH_ANNOTATION]) changes.push('made by another controller');
  return changes;
}

function spec(object: KubeObject): Record<string, unknown> {
  return (object.spec as Record<string, unknown> | undefined) ?? {};
}

function differs(a: unknown, b: unknown): boolean {
  return stableHash(a ?? null) !== stableHash(b ?? null);
}
