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
 * Transient (isTransient) → 503 (retried), with Retry-After when the error asks for a delay.
 * Anything else → 500 (retried; after the Trigger's
 * retries the event goes to the dead-letter sink, where the body is kept as error data).
 */
export function toHttpResponse(outcome: EventOutcome): HttpResponse {
  if (outcome.kind !== 'failed') return { status: 204, headers: {} };
  const status = outcome.error instanceof EventParseError ? 400 : isTransient(outcome.error) ? 503 : 500;
  const body = JSON.stringify(describeError(outcome.error));
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const retryAfter = status === 503 ? retryAfterSeconds(outcome.error) : undefined;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return { status, headers, body };
}

/**
 * The delay an error asks for before a retry, in whole seconds: the first numeric
 * `retryAfterSeconds` in its cause chain (e.g. the API server's Retry-After on a 429, carried
 * by the Kubernetes client's error). Passed on to the Broker as Retry-After on the 503, so the
 * redelivery waits at least as long as the API server asked.
 */
export function retryAfterSeconds(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const value = (current as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.ceil(value);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function outcomeLabel(outcome: EventOutcome): OutcomeLabel {
  if (outcome.kind !== 'failed') return outcome.kind;
  if (outcome.error instanceof EventParseError) return 'invalid';
  return isTransient(outcome.error) ? 'transient' : 'error';
}
