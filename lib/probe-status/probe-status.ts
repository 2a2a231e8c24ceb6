// probe-status's core: read the StatefulSet and its Pod, set StreamerReady, status.ready and
// status.observedGeneration. Level-based: the outcome depends only on the current objects, so
// Pod events, StatefulSet events, replays and resync ticks all converge, and an unchanged state
// costs no write.
import { describeError } from '../events/describe-error.ts';
import { isTransient, TransientError } from '../events/errors.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { buildStatefulSet } from '../k8s/stateful-set.ts';
import { APPLIED_HASH_ANNOTATION, stampHash } from '../reconcile/drift.ts';
import { childNames } from '../k8s/meta.ts';
import type { Streamer } from '../schema/streamer.ts';
import { setCondition } from '../status/set-condition.ts';
import { readyCondition, readyEventType, type ReadyReason, type StatefulSetRead } from './readiness.ts';

/** Field manager of StreamerReady and status.ready. */
export const PROBE_STATUS_FIELD_MANAGER = 'streamer-operator-probe-status';

export type ProbeOutcome = {
  status: 'True' | 'False' | 'Unknown';
  reason: ReadyReason;
  ready: boolean;
  /** The status was written (something changed). */
  written: boolean;
  /** The condition's status or reason changed (an Event was recorded). */
  transitioned: boolean;
  eventError?: string;
};

/**
 * Sets StreamerReady from the StatefulSet `<name>-streamer` and its Pod (readiness.ts: True only
 * when the StatefulSet carries and has observed the Streamer's current generation and its Pod
 * runs the update revision and is ready; else why not), `status.ready` (true only when True) and
 * `status.observedGeneration` (the latest generation that was fully rolled out and ready; kept
 * while a newer one rolls out), writing only when they change. Two reads (StatefulSet and Pod,
 * at once); a third (the namespace's Events) only while the StatefulSet has no Pod, for the
 * controller's FailedCreate message.
 * @throws TransientError after recording Unknown when the read failed in a way a retry may
 *   fix (network, 5xx, throttling); status write failures propagate as they are.
 */
export async function probeStatus({
  kube,
  streamer,
  reportingInstance = 'probe-status',
  now,
}: {
  kube: KubeClient;
  streamer: Streamer;
  reportingInstance?: string;
  now?: Date;
}): Promise<ProbeOutcome> {
  const names = childNames(streamer);
  const name = names.statefulSet;
  const { namespace } = streamer.metadata;
  let read: StatefulSetRead;
  let readError: unknown;
  let pod: KubeObject | null | undefined;
  try {
    const [statefulSet, livePod] = await Promise.all([
      kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name }),
      kube.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: names.pod }),
    ]);
    read = statefulSet ? { kind: 'found', statefulSet } : { kind: 'missing' };
    pod = livePod !== null && controlledBy(livePod, name) ? livePod : null;
  } catch (error) {
    readError = error;
    read = { kind: 'unreadable', message: describeError(error).message };
  }
  const failedCreate = read.kind === 'found' && pod === null ? await latestFailedCreate(kube, namespace, name) : undefined;
  const { input, fields } = readyStatus({ streamer, read, pod, ...(failedCreate ? { failedCreate } : {}) });
  const ready = input.status === 'True';
  const result = await setCondition({
    kube,
    streamer,
    fieldManager: PROBE_STATUS_FIELD_MANAGER,
    input,
    fields,
    event: { reportingInstance, action: 'Probe', type: (condition) => readyEventType(condition.reason as ReadyReason) },
    now,
  });
  if (readError !== undefined && isTransient(readError)) {
    throw new TransientError(`StatefulSet ${name} could not be read; StreamerReady is Unknown`, { cause: readError });
  }
  return {
    status: input.status,
    reason: input.reason,
    ready,
    written: result.written,
    transitioned: result.transitioned,
    ...(result.eventError ? { eventError: result.eventError } : {}),
  };
}

/**
 * StreamerReady and the other status fields probe-status owns, from what it read (pure: the
 * resync decides from lists with it). `pod`: undefined when not read, null when absent.
 */
export function readyStatus({ streamer, read, pod, failedCreate }: { streamer: Streamer; read: StatefulSetRead; pod: KubeObject | null | undefined; failedCreate?: string }) {
  const name = childNames(streamer).statefulSet;
  const input = readyCondition({ name, read, desiredHash: desiredStatefulSetHash(streamer), pod, ...(failedCreate ? { failedCreate } : {}) });
  const ready = input.status === 'True';
  const observedGeneration = ready ? streamer.metadata.generation : streamer.status?.observedGeneration;
  return { input, fields: { ready, ...(observedGeneration !== undefined ? { observedGeneration } : {}) } };
}

/** The applied-hash reconcile-children stamps on the StatefulSet for this generation's spec. */
function desiredStatefulSetHash(streamer: Streamer): string | undefined {
  return stampHash(buildStatefulSet(streamer) as KubeObject).metadata.annotations?.[APPLIED_HASH_ANNOTATION];
}

export function controlledBy(pod: KubeObject, setName: string): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'StatefulSet' && r.name === setName);
}

type EventObject = KubeObject & { reason?: string; note?: string; regarding?: { kind?: string; name?: string }; eventTime?: string; deprecatedLastTimestamp?: string; series?: { lastObservedTime?: string } };

/**
 * The note of the newest FailedCreate Event about the StatefulSet (the controller's words, e.g.
 * a quota or admission refusal), or undefined. Best effort: an Event list that fails (RBAC,
 * network) only costs the detail, not the condition.
 */
async function latestFailedCreate(kube: KubeClient, namespace: string, setName: string): Promise<string | undefined> {
  let events: EventObject[];
  try {
    events = await kube.list<EventObject>({ apiVersion: 'events.k8s.io/v1', kind: 'Event', namespace });
  } catch {
    return undefined;
  }
  const when = (e: EventObject) => e.series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '';
  const failures = events
    .filter((e) => e.reason === 'FailedCreate' && e.regarding?.kind === 'StatefulSet' && e.regarding.name === setName)
    .sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0));
  return failures.at(-1)?.note;
}
