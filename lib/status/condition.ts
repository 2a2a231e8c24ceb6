// metav1.Condition bookkeeping: find a condition by type, build the next one so that
// lastTransitionTime moves only when the status flips (like apimachinery's
// meta.SetStatusCondition), and tell whether a reader would see any difference, so an
// unchanged Streamer costs no write.
import type { Condition, ConditionStatus } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';

/** What a function decides; the bookkeeping fields are added by nextCondition. */
export type ConditionInput = { type: string; status: ConditionStatus; reason: string; message: string };

/** Condition messages are for people; keep them short (the CRD allows 32768). */
export const MAX_MESSAGE_LENGTH = 1024;

export function findCondition(streamer: Streamer, type: string): Condition | undefined {
  return streamer.status?.conditions?.find((condition) => condition.type === type);
}

/**
 * The condition to store: `input` plus observedGeneration (the Streamer's generation it was
 * computed from) and lastTransitionTime (kept from `previous` when the status is the same,
 * else `now`).
 */
export function nextCondition({
  previous,
  input,
  generation,
  now,
}: {
  previous: Condition | undefined;
  input: ConditionInput;
  generation: number | undefined;
  now: Date;
}): Condition {
  const condition: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: capMessage(input.message),
    lastTransitionTime: previous !== undefined && previous.status === input.status ? previous.lastTransitionTime : rfc3339(now),
  };
  if (generation !== undefined) condition.observedGeneration = generation;
  return condition;
}

/** Same in every field a reader sees. */
export function sameCondition(a: Condition | undefined, b: Condition): boolean {
  return (
    a !== undefined &&
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}

/**
 * A transition worth an Event: the condition is new, or its status or reason changed (a
 * False/Forbidden that becomes False/ConfigInvalid is news too). A changed message or
 * generation alone is not.
 */
export function isTransition(previous: Condition | undefined, next: Condition): boolean {
  return previous === undefined || previous.status !== next.status || previous.reason !== next.reason;
}

/** RFC 3339 in UTC with whole seconds, as metav1.Time serialises: 2026-01-14T10:00:00Z. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function capMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}
