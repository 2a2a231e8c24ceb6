// The media server ("streamer") HTTP API client: the five calls the operator needs.
// Endpoints: shared/upstream/flussonic-openapi.json and shared/reference/flussonic-api.md.
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { basicAuthorization, toEditAuth, type EditAuth } from './edit-auth.ts';
import { configErrorLocation, MediaServerResponseError, MediaServerSchemaError, type ConfigErrorLocation } from './errors.ts';
import { exchange, type Call, type Exchange, type TransportOptions } from './exchange.ts';
import { ConfigErrorStatus, ErrorBody, ServerConfig, ServerStats, ServerStatsWhoami } from './schemas.ts';

/** Base path of the v3 API (spec `servers[0].url`). */
export const API_PREFIX = '/streamer/api/v3';

export type MediaClientOptions = {
  /** `http://<podIP>:<apiPort>`, see mediaBaseUrl(). */
  baseUrl: string;
  /** The Streamer's edit_auth, as `login:password` or a pair. Sent as HTTP Basic auth. */
  auth: EditAuth | string;
  /** undici dispatcher (e.g. an Agent with its own pool); undici's global one when omitted. */
  dispatcher?: Dispatcher;
  /** Deadline of one attempt in ms. @default 3000 */
  timeoutMs?: number;
  /** Extra attempts on network errors, timeouts and 5xx, for every call here (all are safe to repeat). @default 2 */
  retries?: number;
  /** Linear back-off step between attempts in ms. @default 250 */
  retryDelayMs?: number;
};

export type MediaClient = {
  /**
   * PUT /config with the config as text/plain: saves it on the server. PUT replaces the
   * resource with the same text each time, so it is retried like a GET.
   * @returns the server's `server_config` after the save.
   */
  saveConfig(text: string): Promise<ServerConfig>;
  /**
   * POST /config with the config as text/plain: "just parse and validate config, nothing is
   * saved". It has no side effects, so it is retried like a GET.
   * @returns the parsed `server_config`. A bad config is a MediaServerResponseError 400 with `configError`.
   */
  validateConfig(text: string): Promise<ServerConfig>;
  /** GET /config/stats: runtime status (`streamer_status`, `config_error`, …). */
  configStats(): Promise<ServerStats>;
  /** GET /monitoring/liveness: resolves when the server process is up. */
  liveness(): Promise<ServerStatsWhoami>;
  /** GET /monitoring/readiness: resolves when the server is ready to work; rejects (e.g. 503) otherwise. */
  readiness(): Promise<ServerStatsWhoami>;
};

/**
 * Creates a client for one media server. Every method rejects with one of
 * MediaServerResponseError (status ≥ 400: 400 invalid config with `configError`, 401/403 bad
 * credentials, 5xx), MediaServerTimeoutError, MediaServerNetworkError or MediaServerSchemaError.
 * Worst-case duration of a call with the defaults: 3 × 3000 ms + 750 ms of back-off.
 * @throws EditAuthFormatError (synchronously) when `auth` is not `login:password`.
 */
export function createMediaClient(options: MediaClientOptions): MediaClient {
  const transport: TransportOptions = {
    baseUrl: options.baseUrl,
    authorization: basicAuthorization(toEditAuth(options.auth)),
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs ?? 3000,
    retries: Math.max(0, Math.trunc(options.retries ?? 2)),
    retryDelayMs: options.retryDelayMs ?? 250,
  };
  const call = <T>(request: Call, schema: z.ZodType<T>): Promise<T> => exchange(transport, request).then((answer) => readAnswer(answer, schema));
  const configText = (method: 'PUT' | 'POST', text: string): Call => ({
    method,
    path: `${API_PREFIX}/config`,
    body: text,
    contentType: 'text/plain; charset=utf-8',
    retry: true,
  });
  const get = (path: string): Call => ({ method: 'GET', path: `${API_PREFIX}${path}`, retry: true });

  return {
    saveConfig: (text) => call(configText('PUT', text), ServerConfig),
    validateConfig: (text) => call(configText('POST', text), ServerConfig),
    configStats: () => call(get('/config/stats'), ServerStats),
    liveness: () => call(get('/monitoring/liveness'), ServerStatsWhoami),
    readiness: () => call(get('/monitoring/readiness'), ServerStatsWhoami),
  };
}

/** Maps ≥ 400 to MediaServerResponseError, then parses the JSON body with `schema`. */
function readAnswer<T>(answer: Exchange, schema: z.ZodType<T>): T {
  const { statusCode, text, site } = answer;
  if (statusCode >= 400) {
    const body = parseJson(text);
    throw new MediaServerResponseError(site, statusCode, errorAtom(body), statusCode === 400 ? configError(body) : undefined);
  }
  const body = parseJson(text);
  if (body === undefined) throw new MediaServerSchemaError(site, statusCode, [{ path: [], message: 'body is not JSON' }]);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new MediaServerSchemaError(site, statusCode, parsed.error.issues);
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // not JSON: callers treat it as "no structured body"
  }
}

/** Only short atom-like codes are kept, so an error body cannot smuggle arbitrary text into messages. */
const ATOM = /^[A-Za-z0-9_.:-]{1,64}$/;

function atom(value: unknown): string | undefined {
  return typeof value === 'string' && ATOM.test(value) ? value : undefined;
}

function errorAtom(body: unknown): string | undefined {
  const parsed = ErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  return atom(parsed.data.error) ?? atom(parsed.data.errors?.[0]?.code);
}

function configError(body: unknown): ConfigErrorLocation | undefined {
  const parsed = ConfigErrorStatus.safeParse(body);
  if (!parsed.success) return undefined;
  const location = configErrorLocation(parsed.data);
  if (location === undefined) return undefined;
  const error = atom(location.error);
  if (error === undefined) delete location.error;
  else location.error = error;
  return location;
}
