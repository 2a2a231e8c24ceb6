// reconcile-children's own condition, ChildrenReady, around reconcileChildren:
// - True (ChildrenApplied) when every child matches the Streamer's generation;
// - False when the API server permanently refused a child (lib/kube/permanent.ts), with the
//   child's kind and name and the API server's own message (reason ApplyRefused), or a child
//   someone else holds (reason ChildConflict, the error's own message);
// - False (ConfigExternalAuthUnavailable) when the configExternalAuth Secret/ConfigMap key the
//   operator must escape does not exist and is not optional;
// - transient failures (429, 5xx, network) are not recorded: they are thrown, answered 503 and
//   redelivered.
// A permanent failure is recorded and returned, not thrown, so the event is answered 2xx: no
// Broker retry, no dead letter. The next edit or resync tick tries again.
//
// Events: one Warning per new failure (a False whose reason or message differs from the stored
// one), not per retry; one Normal when a failure is resolved. A healthy create records none
// here (reconcileChildren's ChildrenCreated says what was created).
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { KubeApiError } from '../kube/errors.ts';
import { recordEvent } from '../kube/events.ts';
import { permanentCause } from '../kube/permanent.ts';
import { describeError } from '../events/describe-error.ts';
import type { Condition } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';
import { applyStatus } from '../status/apply-status.ts';
import { findCondition, nextCondition, sameCondition, type ConditionInput } from '../status/condition.ts';
import { ConditionType } from '../status/condition-types.ts';
import { observeChildRequests, type ChildRef } from './child-requests.ts';
import { reconcileChildren, type ChildKind, type ChildrenOutcome } from './children.ts';
import { syncConfigExternalAuth, type ConfigExternalAuthOutcome } from './config-external-auth.ts';

/** Field manager of ChildrenReady on the status subresource. */
export const CHILDREN_STATUS_FIELD_MANAGER = 'streamer-operator-reconcile-children';

export const ChildrenReason = ['ChildrenApplied', 'ApplyRefused', 'ChildConflict', 'ConfigExternalAuthUnavailable', 'Recreating'] as const;
export type ChildrenReason = (typeof ChildrenReason)[number];

export type ReportedOutcome =
  | { kind: 'applied'; outcome: ChildrenOutcome & { narrowed: boolean }; written: boolean }
  | { kind: 'refused'; reason: ChildrenReason; child?: ChildRef; message: string; written: boolean; eventRecorded: boolean };

export async function reconcileAndReport({
  kube,
  streamer,
  reportingInstance = 'reconcile-children',
  random,
  only,
  now = new Date(),
}: {
  kube: KubeClient;
  streamer: Streamer;
  reportingInstance?: string;
  random?: (size: number) => Uint8Array;
  /**
   * Narrow the pass to this child (reconcileChildren's `only`): for an event about one child of
   * a generation already converged. The escaped configExternalAuth key lives in the Secret, so
   * it is synced by a full pass or a Secret's.
   */
  only?: ChildKind;
  now?: Date;
}): Promise<ReportedOutcome> {
  const observed = observeChildRequests(kube);
  let outcome: ChildrenOutcome & { narrowed: boolean };
  let auth: ConfigExternalAuthOutcome;
  try {
    outcome = await reconcileChildren({ kube: observed.kube, streamer, reportingInstance, ...(random ? { random } : {}), ...(only ? { only } : {}) });
    auth = outcome.narrowed && only !== 'Secret' ? { kind: 'unchanged' } : await syncConfigExternalAuth({ kube: observed.kube, streamer });
  } catch (error) {
    const cause = permanentCause(error);
    if (!cause) throw error;
    return reportFailure(kube, streamer, reportingInstance, refusal(cause, observed.childOf(error)), now);
  }
  if (auth.kind === 'unavailable') {
    const input = { type: ConditionType.childrenReady, status: 'False' as const, reason: 'ConfigExternalAuthUnavailable', message: auth.message };
    return reportFailure(kube, streamer, reportingInstance, input, now);
  }
  // A child being recreated (immutable fields; its delete event brings the create) is progress,
  // not a failure: False with reason Recreating, and no Warning (reconcileChildren's Normal
  // StatefulSetRecreated Event says why).
  const input: ConditionInput = outcome.pending.length > 0
    ? { type: ConditionType.childrenReady, status: 'False', reason: 'Recreating', message: `waiting for the old ${outcome.pending.join(', ')} to be deleted before it is created again` }
    : { type: ConditionType.childrenReady, status: 'True', reason: 'ChildrenApplied', message: 'every child matches the Streamer' };
  const { written, previous } = await record(kube, streamer, input, now);
  if (written && previous?.status === 'False') {
    await tryEvent(kube, streamer, reportingInstance, { type: 'Normal', reason: 'ChildrenApplied', action: 'Apply', note: `ChildrenReady is True again (was ${previous.reason})` });
  }
  return { kind: 'applied', outcome, written };
}

/** Records a False ChildrenReady; one Warning Event when the failure is new (not a retry of the same). */
async function reportFailure(
  kube: KubeClient,
  streamer: Streamer,
  reportingInstance: string,
  input: ConditionInput & { child?: ChildRef },
  now: Date,
): Promise<ReportedOutcome> {
  const { written, condition, previous } = await record(kube, streamer, input, now);
  const isNew = previous === undefined || previous.status !== 'False' || previous.reason !== condition.reason || previous.message !== condition.message;
  let eventRecorded = false;
  if (written && isNew) {
    eventRecorded = await tryEvent(kube, streamer, reportingInstance, { type: 'Warning', reason: input.reason, action: 'Apply', note: input.message });
  }
  return { kind: 'refused', reason: input.reason as ChildrenReason, ...(input.child ? { child: input.child } : {}), message: input.message, written, eventRecorded };
}

/** The False condition for a permanent failure: which child, and the API server's words. */
function refusal(cause: Error, observedChild: ChildRef | undefined): ConditionInput & { child?: ChildRef } {
  const own = cause as { kind?: unknown; name?: unknown };
  const child = typeof own.kind === 'string' && typeof own.name === 'string' ? { kind: own.kind, name: own.name } : observedChild;
  const type = ConditionType.childrenReady;
  if (cause instanceof KubeApiError) {
    const what = child ? `${child.kind} ${child.name}` : 'a child';
    const message = `the API server refused ${what} (${cause.statusCode} ${cause.reason}): ${cause.serverMessage}`;
    return { type, status: 'False', reason: 'ApplyRefused', message, ...(child ? { child } : {}) };
  }
  return { type, status: 'False', reason: 'ChildConflict', message: describeError(cause).message, ...(child ? { child } : {}) };
}

/** Writes ChildrenReady when a reader would see a difference; zero requests otherwise. */
async function record(kube: KubeClient, streamer: Streamer, input: ConditionInput, now: Date) {
  const previous = findCondition(streamer, input.type);
  const condition: Condition = nextCondition({ previous, input, generation: streamer.metadata.generation, now });
  if (sameCondition(previous, condition)) return { written: false, condition, previous };
  await applyStatus({ kube, streamer, fieldManager: CHILDREN_STATUS_FIELD_MANAGER, condition });
  return { written: true, condition, previous };
}

/** Best effort: the condition is written; a lost Event must not cost a redelivery. */
async function tryEvent(kube: KubeClient, streamer: Streamer, reportingInstance: string, event: Parameters<typeof recordEvent>[1]['event']) {
  try {
    await recordEvent(kube, { regarding: streamer as unknown as KubeObject, reportingInstance, event });
    return true;
  } catch {
    return false;
  }
}
