// probe-status's core: read the StatefulSet, set StreamerReady and status.ready. Level-based:
// the outcome depends only on the current StatefulSet, so Pod events, StatefulSet events,
// replays and resync ticks all converge, and an unchanged state costs no write.
import { describeError } from '../events/describe-error.ts';
import { isTransient, TransientError } from '../events/errors.ts';
import type { KubeClient } from '../kube/client.ts';
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
 * Sets StreamerReady (True when the StatefulSet `<name>-streamer` has status.readyReplicas ≥ 1,
 * False with StatefulSetNotFound or NoReadyReplicas, Unknown with StatefulSetUnreadable) and
 * `status.ready` (true only when True), writing only when they change.
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
  const name = childNames(streamer).statefulSet;
  let read: StatefulSetRead;
  let readError: unknown;
  try {
    const statefulSet = await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: streamer.metadata.namespace, name });
    read = statefulSet ? { kind: 'found', statefulSet } : { kind: 'missing' };
  } catch (error) {
    readError = error;
    read = { kind: 'unreadable', message: describeError(error).message };
  }
  const input = readyCondition({ name, read });
  const ready = input.status === 'True';
  const result = await setCondition({
    kube,
    streamer,
    fieldManager: PROBE_STATUS_FIELD_MANAGER,
    input,
    fields: { ready },
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
