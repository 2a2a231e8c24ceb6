// StreamerReady from the StatefulSet's and its Pod's own status (spec, "StreamerReady
// condition"): True = the StatefulSet carries the Streamer's current generation, has observed
// it, and its Pod runs the update revision and is ready; False = not found, not there yet, or
// failing, with the cause in the message; Unknown = it could not be read. Pure: the caller reads.
//
// "True for generation N" therefore means the Pod of generation N is serving: `kubectl wait
// --for=condition=StreamerReady` after a restart edit does not return while the old Pod runs.
import type { KubeObject } from '../kube/client.ts';
import type { ConditionInput } from '../status/condition.ts';
import { ConditionType } from '../status/condition-types.ts';
import { APPLIED_HASH_ANNOTATION } from '../reconcile/drift.ts';

export const ReadyReason = [
  'StatefulSetReady',
  'StatefulSetNotFound',
  'StatefulSetOutdated',
  'RollingOut',
  'PodNotCreated',
  'PodCreateFailed',
  'PodStarting',
  'Unschedulable',
  'ImagePullFailed',
  'ContainerFailing',
  'NoReadyReplicas',
  'StatefulSetUnreadable',
] as const;
export type ReadyReason = (typeof ReadyReason)[number];

export type StatefulSetRead =
  | { kind: 'found'; statefulSet: KubeObject }
  | { kind: 'missing' }
  /** The read failed; `message` is safe to show (the API server's words, no payload). */
  | { kind: 'unreadable'; message: string };

export type ReadyCondition = ConditionInput & { reason: ReadyReason };

export type ReadinessInput = {
  /** The StatefulSet's name. */
  name: string;
  read: StatefulSetRead;
  /**
   * The applied-hash the StatefulSet carries once reconcile-children applied the Streamer's
   * current generation (drift.ts). Unset: not checked.
   */
  desiredHash?: string;
  /** The Pod `<name>-streamer-0` as read (null: it does not exist). Unset: not read. */
  pod?: KubeObject | null;
  /** The StatefulSet controller's latest FailedCreate message, when the Pod is missing. */
  failedCreate?: string;
};

type StatefulSetFields = {
  metadata: { generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: unknown };
  status?: { replicas?: unknown; readyReplicas?: unknown; observedGeneration?: unknown; updateRevision?: unknown; currentRevision?: unknown };
};

type PodFields = {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: { name?: string; state?: { waiting?: { reason?: string; message?: string } }; lastState?: { terminated?: { reason?: string; exitCode?: number } } }[];
  };
};

/** Waiting reasons of a container that will not fix themselves without a person. */
const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONTAINER_FAILING = new Set(['CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreStartHookError', 'PostStartHookError']);

/** The StreamerReady condition for what was read. */
export function readyCondition({ name, read, desiredHash, pod, failedCreate }: ReadinessInput): ReadyCondition {
  const type = ConditionType.ready;
  const is = (status: ReadyCondition['status'], reason: ReadyReason, message: string): ReadyCondition => ({ type, status, reason, message });
  if (read.kind === 'unreadable') return is('Unknown', 'StatefulSetUnreadable', `StatefulSet ${name} could not be read: ${read.message}`);
  if (read.kind === 'missing') return is('False', 'StatefulSetNotFound', `StatefulSet ${name} was not found`);

  const set = read.statefulSet as StatefulSetFields;
  const applied = set.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  if (desiredHash !== undefined && applied !== desiredHash) {
    return is('False', 'StatefulSetOutdated', `StatefulSet ${name} does not carry this generation of the Streamer yet (see ChildrenReady)`);
  }
  const observed = set.status?.observedGeneration;
  if (set.metadata.generation !== undefined && (typeof observed !== 'number' || observed < set.metadata.generation)) {
    return is('False', 'RollingOut', `StatefulSet ${name} has not observed its latest spec yet`);
  }
  const update = typeof set.status?.updateRevision === 'string' ? set.status.updateRevision : undefined;
  const ready = count(set.status?.readyReplicas);
  const desired = count(set.spec?.replicas ?? 1);

  if (pod === undefined) {
    // Without the Pod: the StatefulSet's counts alone.
    if (ready >= 1 && (update === undefined || set.status?.currentRevision === update)) {
      return is('True', 'StatefulSetReady', `StatefulSet ${name} has ${ready} of ${desired} replicas ready`);
    }
    return is('False', 'NoReadyReplicas', `StatefulSet ${name} has no ready replicas (0 of ${desired})`);
  }
  if (pod === null) {
    if (failedCreate) return is('False', 'PodCreateFailed', `StatefulSet ${name} cannot create its Pod: ${failedCreate}`);
    return is('False', 'PodNotCreated', `StatefulSet ${name} has not created its Pod yet`);
  }
  const p = pod as PodFields;
  const podName = p.metadata.name;
  if (p.metadata.deletionTimestamp) return is('False', 'RollingOut', `Pod ${podName} is terminating; StatefulSet ${name} replaces it`);
  const revision = p.metadata.labels?.['controller-revision-hash'];
  if (update !== undefined && revision !== undefined && revision !== update) {
    return is('False', 'RollingOut', `Pod ${podName} still runs revision ${revision}; StatefulSet ${name} is rolling out ${update}`);
  }
  const conditions = p.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return is('False', 'Unschedulable', `Pod ${podName} cannot be scheduled: ${scheduled.message ?? 'no message'}`);
  }
  for (const container of p.status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (!waiting?.reason) continue;
    const detail = `container ${container.name ?? '?'} is waiting: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    if (IMAGE_PULL.has(waiting.reason)) return is('False', 'ImagePullFailed', `Pod ${podName}: ${detail}`);
    if (CONTAINER_FAILING.has(waiting.reason)) {
      const last = container.lastState?.terminated;
      const exit = last ? ` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode ?? '?'})` : '';
      return is('False', 'ContainerFailing', `Pod ${podName}: ${detail}${exit}`);
    }
  }
  const podReady = conditions.find((c) => c.type === 'Ready')?.status === 'True';
  if (p.status?.phase === 'Running' && podReady) {
    return is('True', 'StatefulSetReady', `StatefulSet ${name} has ${Math.max(ready, 1)} of ${desired} replicas ready, on revision ${revision ?? update ?? 'unknown'}`);
  }
  if (p.status?.phase !== 'Running') return is('False', 'PodStarting', `Pod ${podName} is ${p.status?.phase ?? 'Pending'}`);
  return is('False', 'NoReadyReplicas', `Pod ${podName} is Running but not ready (StatefulSet ${name}: 0 of ${desired} ready)`);
}

/** A replica count as the API gives it; absent (the API omits zero) or malformed is 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

/**
 * Normal or Warning for an Event on a transition to `reason`. Warnings are for states that need
 * a person; the states every healthy create or restart passes through (StatefulSet or Pod not
 * there yet, Pod starting, rolling out, not ready yet) are progress and Normal.
 */
export function readyEventType(reason: ReadyReason): 'Normal' | 'Warning' {
  return PROGRESS_REASONS.includes(reason) ? 'Normal' : 'Warning';
}

const PROGRESS_REASONS: readonly ReadyReason[] = [
  'StatefulSetReady', 'StatefulSetNotFound', 'StatefulSetOutdated', 'RollingOut', 'PodNotCreated', 'PodStarting', 'NoReadyReplicas',
];
