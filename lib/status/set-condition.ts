// The one path by which a function records its condition: decide from the freshly read
// Streamer whether anything would change, write only then, and record an Event on a
// transition. Replays and stale events read the same state, so they write nothing.
//
// Under scale-out the write is a compare-and-swap on the Streamer's resourceVersion (see
// apply-status.ts): status writes to one Streamer form one sequence, each decided from the
// status the previous one left. So lastTransitionTime and the transition Event move once per
// real transition, never for a replica's stale view (True, then a stale False, then True).
// Read the Streamer before the state the condition describes (the StatefulSet, the Pod): a
// write then either reflects a read made after every earlier status write, or conflicts.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { recordEvent } from '../kube/events.ts';
import { describeError } from '../events/describe-error.ts';
import { isSubset } from '../reconcile/drift.ts';
import type { Condition } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';
import { applyStatus } from './apply-status.ts';
import { findCondition, isTransition, nextCondition, sameCondition, type ConditionInput } from './condition.ts';

export type SetConditionOptions = {
  kube: KubeClient;
  /** The Streamer as just read: the baseline for "did anything change". */
  streamer: Streamer;
  /** The function's own field manager for the status subresource. */
  fieldManager: string;
  input: ConditionInput;
  /**
   * The function's other status fields (e.g. `ready`), all of them every time: server-side
   * apply removes owned fields an apply leaves out. Compared with the live status to decide.
   */
  fields?: Record<string, unknown>;
  /**
   * Who records the Event on a transition: reportingInstance (the function) and action (Push,
   * Probe); `type` chooses Normal or Warning for the new condition (default: Normal when True,
   * else Warning). Warnings are for states that need a person, so "not yet" states pass Normal.
   */
  event: { reportingInstance: string; action: string; type?: (condition: Condition) => 'Normal' | 'Warning' };
  /** @default new Date() */
  now?: Date;
  /**
   * Write only onto `streamer`'s resourceVersion (StatusConflictError otherwise).
   * @default true
   */
  precondition?: boolean;
};

export type SetConditionResult = {
  condition: Condition;
  previous: Condition | undefined;
  /** A status write was made. */
  written: boolean;
  /** New condition, or its status or reason changed: an Event was recorded (or attempted). */
  transitioned: boolean;
  /** The Event could not be recorded (error code); the status write stands. */
  eventError?: string;
};

/**
 * What setCondition would store, and whether that differs from `streamer`'s status (pure: a
 * resync decides from a list with it, without writing).
 */
export function plannedCondition({
  streamer,
  input,
  fields = {},
  now = new Date(),
}: Pick<SetConditionOptions, 'streamer' | 'input' | 'fields' | 'now'>): { previous: Condition | undefined; condition: Condition; changed: boolean } {
  const previous = findCondition(streamer, input.type);
  const condition = nextCondition({ previous, input, generation: streamer.metadata.generation, now });
  return { previous, condition, changed: !sameCondition(previous, condition) || !isSubset(fields, streamer.status ?? {}) };
}

/**
 * Sets the function's condition (and fields) on the Streamer when they differ from what is
 * stored: zero requests when nothing changed. lastTransitionTime moves only when the status
 * changes; observedGeneration is the Streamer's generation.
 * @throws StatusConflictError when the Streamer changed since it was read: nothing was written
 *   and no Event recorded; re-read it and decide again (lib/runtime does). Otherwise what the
 *   status apply throws (KubeApiError, KubeNetworkError): the caller's event is retried.
 */
export async function setCondition({
  kube,
  streamer,
  fieldManager,
  input,
  fields = {},
  event,
  now = new Date(),
  precondition = true,
}: SetConditionOptions): Promise<SetConditionResult> {
  const { previous, condition, changed } = plannedCondition({ streamer, input, fields, now });
  if (!changed) return { condition, previous, written: false, transitioned: false };
  await applyStatus({ kube, streamer, fieldManager, condition, fields, precondition });
  const result: SetConditionResult = { condition, previous, written: true, transitioned: isTransition(previous, condition) };
  if (result.transitioned) {
    try {
      await recordEvent(kube, {
        regarding: streamer as unknown as KubeObject,
        reportingInstance: event.reportingInstance,
        event: {
          type: event.type ? event.type(condition) : condition.status === 'True' ? 'Normal' : 'Warning',
          reason: condition.reason,
          action: event.action,
          note: `${condition.type} is ${condition.status}: ${condition.message}`,
        },
      });
    } catch (error) {
      // Best effort on purpose: the status is written, so a redelivery would see no
      // transition and record nothing either; failing the event would only cost a retry.
      result.eventError = describeError(error).code;
    }
  }
  return result;
}
