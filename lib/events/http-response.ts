// How the result of handling one event is answered to the Knative Broker (knative.md §2.2):
// any 2xx is success; 5xx (and 404/408/409/429) is retried with backoff; other 4xx are final.
// A 2xx must have an EMPTY body: a body that is not a CloudEvent makes the Broker answer 502
// and redeliver, so success is always 204 No Content.
import { describeError } from './describe-error.ts';
import { EventParseError, isTransient } from './errors.ts';

/** What became of one event. */
export type EventOutcome =
  | { kind: 'done' }
  /** A valid event about an object that maps to no existing Streamer. */
  | { kind: 'unrelated' }
  /** A valid CloudEvent of a type this function does not handle. */
  | { kind: 'ignored'; reason: string }
  | { kind: 'failed'; error: unknown };

export type HttpResponse = { status: number; headers: Record<string, string>; body?: string };

/** Short label of an outcome for logs and metrics. */
export type OutcomeLabel = 'done' | 'unrelated' | 'ignored' | 'invalid' | 'transient' | 'error';

/**
 * done / unrelated / ignored → 204, no body.
 * EventParseError → 400 (not retried): `{"code":"EVENT_INVALID","message":...}`.
 * Transient (isTransient) → 503 (retried). Anything else → 500 (retried; after the Trigger's
 * retries the event goes to the dead-letter sink, where the body is kept as error data).
 */
export function toHttpResponse(outcome: EventOutcome): HttpResponse {
  if (outcome.kind !== 'failed') return { status: 204, headers: {} };
  const status = outcome.error instanceof EventParseError ? 400 : isTransient(outcome.error) ? 503 : 500;
  const body = JSON.stringify(describeError(outcome.error));
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
}

export function outcomeLabel(outcome: EventOutcome): OutcomeLabel {
  if (outcome.kind !== 'failed') return outcome.kind;
  if (outcome.error instanceof EventParseError) return 'invalid';
  return isTransient(outcome.error) ? 'transient' : 'error';
}
