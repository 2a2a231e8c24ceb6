// The media-server client's errors: one flat family with literal names and stable codes.
// Callers branch on `code` (or `instanceof`), never on message text. No message, field or
// `cause` ever holds the edit_auth password or the Authorization header; response bodies are
// reduced to the few fields below because a 400 body echoes the submitted config (which may
// carry `edit_auth`/`cluster_key`).
import type { ConfigErrorStatus } from './schemas.ts';

export const MediaServerErrorCode = [
  'MEDIA_SERVER_RESPONSE',
  'MEDIA_SERVER_TIMEOUT',
  'MEDIA_SERVER_NETWORK',
  'MEDIA_SERVER_SCHEMA',
] as const;
export type MediaServerErrorCode = (typeof MediaServerErrorCode)[number];

/** Which call failed: `method` and `path` (e.g. PUT /streamer/api/v3/config), after how many attempts. */
export type RequestSite = { method: string; path: string; attempts: number };

/** Where a 400 `config_error_status` body says the config is wrong (flussonic-api.md §1.2). */
export type ConfigErrorLocation = {
  /** Short error atom from the server, e.g. `bad_url`. */
  error?: string;
  line?: number;
  col?: number;
  /** Config path to the bad element, e.g. ["streams", 0, "inputs", 0, "url", "input_url"]. */
  path?: (string | number)[];
};

/** Base of the family; never thrown itself. */
export class MediaServerError extends Error {
  override name: string = 'MediaServerError';
  readonly code: MediaServerErrorCode;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;

  constructor(code: MediaServerErrorCode, message: string, site: RequestSite, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.method = site.method;
    this.path = site.path;
    this.attempts = site.attempts;
  }
}

/**
 * The server answered with status ≥ 400. `errorCode` is the body's error atom
 * (`authorization_failed`, `bad_url`, …) when it had one; `configError` is set when the body
 * was a `config_error_status` with a location (400 on /config).
 */
export class MediaServerResponseError extends MediaServerError {
  override name = 'MediaServerResponseError' as const;
  declare readonly code: 'MEDIA_SERVER_RESPONSE';
  readonly statusCode: number;
  readonly errorCode: string | undefined;
  readonly configError: ConfigErrorLocation | undefined;

  constructor(site: RequestSite, statusCode: number, errorCode?: string, configError?: ConfigErrorLocation) {
    super('MEDIA_SERVER_RESPONSE', responseMessage(site, statusCode, errorCode, configError), site);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.configError = configError;
  }
}

/** No complete answer within `timeoutMs` (per attempt). */
export class MediaServerTimeoutError extends MediaServerError {
  override name = 'MediaServerTimeoutError' as const;
  declare readonly code: 'MEDIA_SERVER_TIMEOUT';
  readonly timeoutMs: number;

  constructor(site: RequestSite, timeoutMs: number, options?: ErrorOptions) {
    super('MEDIA_SERVER_TIMEOUT', `${site.method} ${site.path} got no answer within ${timeoutMs} ms${tries(site)}`, site, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection failed (refused, reset, closed early); the transport's error is in `cause`. */
export class MediaServerNetworkError extends MediaServerError {
  override name = 'MediaServerNetworkError' as const;
  declare readonly code: 'MEDIA_SERVER_NETWORK';
  /** The transport's error code, e.g. ECONNREFUSED or UND_ERR_SOCKET, when it had one. */
  readonly causeCode: string | undefined;

  constructor(site: RequestSite, cause: unknown) {
    const causeCode = errorCodeOf(cause);
    super('MEDIA_SERVER_NETWORK', `${site.method} ${site.path} failed: ${causeCode ?? 'network error'}${tries(site)}`, site, { cause });
    this.causeCode = causeCode;
  }
}

/** A 2xx answer whose body is not JSON or does not match the endpoint's schema. Not an HTTP failure. */
export class MediaServerSchemaError extends MediaServerError {
  override name = 'MediaServerSchemaError' as const;
  declare readonly code: 'MEDIA_SERVER_SCHEMA';
  readonly statusCode: number;
  /** zod issues (or one synthetic issue for a body that is not JSON); they carry paths, not values. */
  readonly issues: readonly { path: PropertyKey[]; message: string }[];

  constructor(site: RequestSite, statusCode: number, issues: readonly { path: PropertyKey[]; message: string }[]) {
    super('MEDIA_SERVER_SCHEMA', `${site.method} ${site.path} answered ${statusCode} with an unexpected body: ${summarise(issues)}`, site);
    this.statusCode = statusCode;
    this.issues = issues;
  }
}

/** An edit_auth value that is not `login:password` (both non-empty). The value is never included. */
export class EditAuthFormatError extends Error {
  override name = 'EditAuthFormatError' as const;
  readonly code = 'EDIT_AUTH_INVALID' as const;

  constructor() {
    super('edit_auth must be "login:password" with a non-empty login and password');
  }
}

/** Builds a `ConfigErrorLocation` from a parsed `config_error_status`, or undefined if it has nothing to say. */
export function configErrorLocation(body: ConfigErrorStatus): ConfigErrorLocation | undefined {
  const location: ConfigErrorLocation = {};
  if (body.error != null) location.error = body.error;
  if (body.line != null) location.line = body.line;
  if (body.col != null) location.col = body.col;
  if (body.path != null) location.path = body.path;
  return Object.keys(location).length > 0 ? location : undefined;
}

/** "bad_url at line 1, column 34" (parts that are known), for messages. */
export function describeConfigError(location: ConfigErrorLocation): string {
  const where = [
    location.line !== undefined ? `line ${location.line}` : undefined,
    location.col !== undefined ? `column ${location.col}` : undefined,
  ].filter((part) => part !== undefined);
  const what = location.error ?? 'invalid config';
  return where.length > 0 ? `${what} at ${where.join(', ')}` : what;
}

function responseMessage(site: RequestSite, statusCode: number, errorCode?: string, configError?: ConfigErrorLocation): string {
  const detail = configError !== undefined ? `: ${describeConfigError(configError)}` : errorCode !== undefined ? ` (${errorCode})` : '';
  return `${site.method} ${site.path} answered ${statusCode}${detail}${tries(site)}`;
}

function tries(site: RequestSite): string {
  return site.attempts > 1 ? ` after ${site.attempts} attempts` : '';
}

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function summarise(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (first === undefined) return 'no details';
  const at = first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `${first.message}${at}${more}`;
}
