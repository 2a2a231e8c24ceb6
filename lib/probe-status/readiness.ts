// StreamerReady from the StatefulSet's state (spec, "StreamerReady condition"):
// True = the StatefulSet has a ready replica; False = it was not found or has none;
// Unknown = it could not be read. Pure: the caller does the read.
import type { KubeObject } from '../kube/client.ts';
import type { ConditionInput } from '../status/condition.ts';
import { ConditionType } from '../status/condition-types.ts';

export const ReadyReason = ['StatefulSetReady', 'StatefulSetNotFound', 'NoReadyReplicas', 'StatefulSetUnreadable'] as const;
export type ReadyReason = (typeof ReadyReason)[number];

export type StatefulSetRead =
  | { kind: 'found'; statefulSet: KubeObject }
  | { kind: 'missing' }
  /** The read failed; `message` is safe to show (the API server's words, no payload). */
  | { kind: 'unreadable'; message: string };

export type ReadyCondition = ConditionInput & { reason: ReadyReason };

type StatefulSetCounts = { spec?: { replicas?: unknown }; status?: { replicas?: unknown; readyReplicas?: unknown } };

/** The StreamerReady condition for a read of the StatefulSet named `name`. */
export function readyCondition({ name, read }: { name: string; read: StatefulSetRead }): ReadyCondition {
  const type = ConditionType.ready;
  if (read.kind === 'unreadable') {
    return { type, status: 'Unknown', reason: 'StatefulSetUnreadable', message: `StatefulSet ${name} could not be read: ${read.message}` };
  }
  if (read.kind === 'missing') {
    return { type, status: 'False', reason: 'StatefulSetNotFound', message: `StatefulSet ${name} was not found` };
  }
  const { spec, status } = read.statefulSet as StatefulSetCounts;
  const ready = count(status?.readyReplicas);
  const desired = count(spec?.replicas ?? 1);
  if (ready >= 1) {
    return { type, status: 'True', reason: 'StatefulSetReady', message: `StatefulSet ${name} has ${ready} of ${desired} replicas ready` };
  }
  return { type, status: 'False', reason: 'NoReadyReplicas', message: `StatefulSet ${name} has no ready replicas (0 of ${desired})` };
}

/** A replica count as the API gives it; absent (the API omits zero) or malformed is 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

/**
 * Normal or Warning for an Event on a transition to `reason`. Warnings are for states that need
 * a person; the states every healthy create or restart passes through (StatefulSet not created
 * yet, Pod starting) are progress and Normal.
 */
export function readyEventType(reason: ReadyReason): 'Normal' | 'Warning' {
  return PROGRESS_REASONS.includes(reason) ? 'Normal' : 'Warning';
}

const PROGRESS_REASONS: readonly ReadyReason[] = ['StatefulSetReady', 'StatefulSetNotFound', 'NoReadyReplicas'];
