// The StreamerConfigSaved condition from the outcome of one save (PUT /config) attempt.
// Spec ("StreamerConfigSaved condition"): True = saved (HTTP 200); False = saving is
// forbidden (HTTP 403); Unknown = HTTP 500+, network errors or other issues. We also map:
// 400 (invalid config) -> False/ConfigInvalid, because retrying the same text cannot succeed;
// 401 -> False/Unauthorized, an auth failure like 403 (old servers answered 401).
import type { ConditionStatus } from '../schema/condition.ts';
import { describeConfigError, MediaServerError, MediaServerResponseError } from './errors.ts';

export const SaveReason = [
  'ConfigSaved',
  'Forbidden',
  'Unauthorized',
  'ConfigInvalid',
  'ServerError',
  'UnexpectedStatus',
  'Timeout',
  'Unreachable',
  'InvalidResponse',
  'SaveFailed',
] as const;
export type SaveReason = (typeof SaveReason)[number];

export type SaveResult = { status: ConditionStatus; reason: SaveReason; message: string };

/**
 * Classifies the result of `saveConfig`: pass `undefined` when it resolved, or what it threw.
 *
 * | outcome                         | status  | reason           |
 * |---------------------------------|---------|------------------|
 * | resolved (HTTP 200)             | True    | ConfigSaved      |
 * | 403                             | False   | Forbidden        |
 * | 401                             | False   | Unauthorized     |
 * | 400                             | False   | ConfigInvalid (message has the server's line and column) |
 * | 5xx                             | Unknown | ServerError      |
 * | other status ≥ 400              | Unknown | UnexpectedStatus |
 * | timeout                         | Unknown | Timeout          |
 * | network error                   | Unknown | Unreachable      |
 * | 2xx with a body that is not a server_config (maybe not the media server at all) | Unknown | InvalidResponse |
 * | anything else thrown            | Unknown | SaveFailed       |
 *
 * Messages never contain secrets: they are built from status codes, error atoms and positions.
 */
export function classifySaveResult(error?: unknown): SaveResult {
  if (error === undefined) return { status: 'True', reason: 'ConfigSaved', message: 'Configuration saved (HTTP 200)' };
  if (error instanceof MediaServerResponseError) return classifyStatus(error);
  if (!(error instanceof MediaServerError)) {
    return { status: 'Unknown', reason: 'SaveFailed', message: 'Saving the configuration failed unexpectedly' };
  }
  switch (error.code) {
    case 'MEDIA_SERVER_TIMEOUT':
      return { status: 'Unknown', reason: 'Timeout', message: `The media server did not answer in time (${error.message})` };
    case 'MEDIA_SERVER_NETWORK':
      return { status: 'Unknown', reason: 'Unreachable', message: `The media server could not be reached (${error.message})` };
    default:
      return { status: 'Unknown', reason: 'InvalidResponse', message: `The media server's answer was not understood (${error.message})` };
  }
}

function classifyStatus(error: MediaServerResponseError): SaveResult {
  const code = error.statusCode;
  if (code === 403) {
    return { status: 'False', reason: 'Forbidden', message: 'The media server refused the edit_auth credentials (HTTP 403)' };
  }
  if (code === 401) {
    return { status: 'False', reason: 'Unauthorized', message: 'The media server did not accept the edit_auth credentials (HTTP 401)' };
  }
  if (code === 400) {
    const detail = error.configError !== undefined ? `: ${describeConfigError(error.configError)}` : ' (HTTP 400)';
    return { status: 'False', reason: 'ConfigInvalid', message: `The media server rejected the configuration${detail}` };
  }
  if (code >= 500) {
    return { status: 'Unknown', reason: 'ServerError', message: `The media server failed to save the configuration (HTTP ${code})` };
  }
  return { status: 'Unknown', reason: 'UnexpectedStatus', message: `The media server answered HTTP ${code} to the save` };
}
