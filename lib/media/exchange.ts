// One HTTP exchange with the media server, with a per-attempt deadline and a small bounded retry.
// Turns transport failures into MediaServerTimeoutError / MediaServerNetworkError; statuses are
// returned as they are (the client maps ≥ 400 to MediaServerResponseError).
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { MediaServerNetworkError, MediaServerTimeoutError, type RequestSite } from './errors.ts';

export type TransportOptions = {
  /** e.g. http://127.100.0.7:81 (see mediaBaseUrl); a trailing slash is ignored. */
  baseUrl: string;
  /** Ready-made Authorization header value. Sent, never recorded in errors. */
  authorization: string;
  /** undici dispatcher; undici's global one when omitted. */
  dispatcher: Dispatcher | undefined;
  /** Deadline for one attempt: connect, headers and the whole body. */
  timeoutMs: number;
  /** Extra attempts after the first, for retryable calls only. */
  retries: number;
  /** Linear back-off: the n-th retry waits n × retryDelayMs. */
  retryDelayMs: number;
};

export type Call = {
  method: 'GET' | 'PUT' | 'POST';
  /** Absolute path, e.g. /streamer/api/v3/config. */
  path: string;
  body?: string;
  contentType?: string;
  /** Whether network errors, timeouts and 5xx may be retried (safe/idempotent calls only). */
  retry: boolean;
};

export type Exchange = { statusCode: number; text: string; site: RequestSite };

/**
 * Sends `call`, retrying a retryable call up to `retries` times on a network error, a timeout
 * or a 5xx answer (never on 4xx). Worst case it takes
 * (retries + 1) × timeoutMs + retryDelayMs × retries × (retries + 1) / 2.
 * @throws MediaServerTimeoutError | MediaServerNetworkError after the last attempt.
 */
export async function exchange(options: TransportOptions, call: Call): Promise<Exchange> {
  const maxAttempts = call.retry ? options.retries + 1 : 1;
  for (let attempt = 1; ; attempt++) {
    const site: RequestSite = { method: call.method, path: call.path, attempts: attempt };
    const last = attempt >= maxAttempts;
    try {
      const answer = await attemptOnce(options, call, site);
      if (answer.statusCode < 500 || last) return answer;
    } catch (error) {
      if (last) throw error;
    }
    await sleep(options.retryDelayMs * attempt);
  }
}

async function attemptOnce(options: TransportOptions, call: Call, site: RequestSite): Promise<Exchange> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${call.path}`;
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: options.authorization,
    'user-agent': 'streamer-operator',
  };
  if (call.contentType !== undefined) headers['content-type'] = call.contentType;
  // One deadline for the whole attempt; undici's own header/body timeouts only bound idle gaps.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  try {
    const response = await request(url, {
      method: call.method,
      headers,
      body: call.body ?? null,
      dispatcher: options.dispatcher,
      signal: deadline.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const text = await response.body.text();
    return { statusCode: response.statusCode, text, site };
  } catch (error) {
    if (deadline.signal.aborted || isUndiciTimeout(error)) throw new MediaServerTimeoutError(site, options.timeoutMs, { cause: error });
    throw new MediaServerNetworkError(site, error);
  } finally {
    clearTimeout(timer);
  }
}

const undiciTimeoutCodes: readonly string[] = ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'];

function isUndiciTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && undiciTimeoutCodes.includes(error.code);
}
