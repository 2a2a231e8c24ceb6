// Errors of the event intake, and the rule that decides which failures the Knative Broker
// should retry. Callers branch on `code` / `instanceof` / `isTransient`, never on message text.
import { KubeApiError, KubeCredentialError, KubeNetworkError } from '../kube/errors.ts';

/**
 * The request is not a usable event: not a CloudEvent, a required attribute or ApiServerSource
 * extension is missing, or its data is not what the type promises. Answered with 400, which
 * the Broker does not retry (knative.md §2.2): the same bytes would fail again. The message
 * names what is wrong and never quotes the event data.
 */
export class EventParseError extends Error {
  override name = 'EventParseError' as const;
  readonly code = 'EVENT_INVALID' as const;
}

/**
 * A failure that may pass on a later attempt (API server unavailable, conflict, throttled,
 * network). Answered with 503 so the Broker redelivers the event with backoff.
 */
export class TransientError extends Error {
  override name = 'TransientError' as const;
  readonly code = 'TRANSIENT' as const;
  /** Seconds to wait before a retry, when known (answered as Retry-After; see http-response.ts). */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** HTTP statuses from the API server worth retrying: timeout, conflict, throttling, server side. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Node and undici error codes of connections that failed or broke on the way. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** `@kubernetes/client-node` 2.x `ApiException`: a numeric `code` (the HTTP status) and a `body`. */
export function isClientNodeApiException(error: unknown): error is Error & { code: number; body: unknown } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

/**
 * True when retrying the same event later may succeed: a TransientError; an API answer of
 * 408/409/429/5xx (our KubeApiError or client-node's ApiException); credentials that could not
 * be obtained (KubeCredentialError); a network failure (our KubeNetworkError, a Node/undici error code such as ECONNREFUSED, undici fetch's
 * `TypeError: fetch failed`, an AbortSignal timeout). Looks through `cause` chains.
 */
export function isTransient(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof TransientError || current instanceof KubeNetworkError || current instanceof KubeCredentialError) return true;
    if (current instanceof KubeApiError) return isRetryableStatus(current.statusCode);
    if (isClientNodeApiException(current)) return isRetryableStatus(current.code);
    if (typeof current !== 'object') return false;
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'TimeoutError') return true;
    if (current instanceof TypeError && message === 'fetch failed') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
