// The endpoints the double serves under /streamer/api/v3, answering as the OpenAPI spec
// (shared/upstream/flussonic-openapi.json) and flussonic-api.md describe. Pure with respect to
// HTTP: takes the request's parts and the double's state, returns status, type and body.
import { applyConfigJson, renderConfigText } from './config-json.ts';
import type { ConfigErrorBody, DoubleConfig } from './config-model.ts';
import { parseConfigText } from './config-text.ts';

export type DoubleState = {
  editAuth: string;
  configText: string;
  configJson: DoubleConfig;
  /** Error of the saved config (only an invalid initialConfig makes one: "crash mode"). */
  configError: ConfigErrorBody | null;
  configVersion: number;
  readinessFailing: boolean;
  startedAt: number;
  id: string;
};

export type ApiRequest = { method: string; apiPath: string; accept: string; contentType: string; body: string; authorized: boolean };
export type ApiResponse = { status: number; contentType: 'application/json' | 'text/plain'; body: string };

/** Paths that answer without credentials: the probes (the 2024 operator's probes sent none). */
export const OPEN_PATHS: readonly string[] = ['/monitoring/liveness', '/monitoring/readiness'];

const OPERATIONS: Record<string, readonly string[]> = {
  '/config': ['GET', 'PUT', 'POST'],
  '/config/stats': ['GET'],
  '/monitoring/liveness': ['GET'],
  '/monitoring/readiness': ['GET'],
};

/** Routes one API request (path relative to /streamer/api/v3). May update `state` on a save. */
export function route(state: DoubleState, request: ApiRequest): ApiResponse {
  const methods = OPERATIONS[request.apiPath];
  if (methods === undefined) return json(404, { error: 'not_found' });
  if (!methods.includes(request.method)) return json(405, { error: 'unknown_operation' });
  if (!request.authorized && !OPEN_PATHS.includes(request.apiPath)) return json(403, { error: 'authorization_failed' });
  switch (`${request.method} ${request.apiPath}`) {
    case 'GET /monitoring/liveness':
      return json(200, whoami(state));
    case 'GET /monitoring/readiness':
      return state.readinessFailing ? json(503, { error: 'unavailable' }) : json(200, whoami(state));
    case 'GET /config/stats':
      return json(200, stats(state));
    case 'GET /config':
      return request.accept.includes('text/plain') ? { status: 200, contentType: 'text/plain', body: state.configText } : json(200, state.configJson);
    default:
      return configBody(state, request, request.method === 'PUT');
  }
}

/** PUT (save) or POST (validate) /config with a text/plain or JSON body. */
function configBody(state: DoubleState, request: ApiRequest, save: boolean): ApiResponse {
  const type = request.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/plain') {
    const parsed = parseConfigText(request.body);
    if (!parsed.ok) return json(400, parsed.error);
    if (save) commit(state, request.body, parsed.config);
    return json(200, parsed.config);
  }
  if (type === 'application/json' || type === 'text/json') {
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return json(400, { error: 'invalid_json', name: 'request_body', while: 'parsing_parameters' });
    }
    const applied = applyConfigJson(state.configJson, body, save);
    if (!applied.ok) return json(400, applied.body);
    if (save) commit(state, renderConfigText(applied.config), applied.config);
    return json(200, applied.config);
  }
  // The real handler ignores bodies of other types; the double refuses them to catch client bugs.
  return json(400, { error: 'bad_request' });
}

/**
 * Saves a config. Like the real server, an `edit_auth` in the saved config becomes the
 * credentials from the next request on; a config without one leaves them unchanged.
 */
function commit(state: DoubleState, text: string, config: DoubleConfig): void {
  state.configText = text;
  state.configJson = config;
  state.configError = null;
  state.configVersion += 1;
  if (config.edit_auth) state.editAuth = `${config.edit_auth.login}:${config.edit_auth.password}`;
}

/** `server_stats_whoami`. */
function whoami(state: DoubleState): Record<string, unknown> {
  return { server_version: '25.01-double', build: 1, now: Date.now(), started_at: state.startedAt };
}

/** `server_stats`, with the fields an operator reads. */
function stats(state: DoubleState): Record<string, unknown> {
  const status = state.readinessFailing ? 'starting' : state.configError !== null ? 'broken_config' : 'running';
  return {
    ...whoami(state),
    streamer_status: status,
    config_error: state.configError,
    text_alerts: state.configError !== null ? { config: `config error ${state.configError.error}` } : {},
    config_version: [state.startedAt, state.configVersion],
    hostname: 'media-double',
    id: state.id,
    total_streams: state.configJson.streams?.length ?? 0,
    online_streams: 0,
  };
}

export function json(status: number, body: unknown): ApiResponse {
  return { status, contentType: 'application/json', body: `${JSON.stringify(body)}\n` };
}
