// The media-server client's public surface (re-exports only).
export { API_PREFIX, createMediaClient, type MediaClient, type MediaClientOptions } from './client.ts';
export { mediaBaseUrl } from './base-url.ts';
export { basicAuthorization, parseEditAuth, toEditAuth, type EditAuth } from './edit-auth.ts';
export {
  EditAuthFormatError,
  MediaServerError,
  MediaServerErrorCode,
  MediaServerNetworkError,
  MediaServerResponseError,
  MediaServerSchemaError,
  MediaServerTimeoutError,
  type ConfigErrorLocation,
  type RequestSite,
} from './errors.ts';
export { classifySaveResult, SaveReason, type SaveResult } from './save-result.ts';
export { ConfigErrorStatus, ServerConfig, ServerStats, ServerStatsWhoami, StreamerStatus } from './schemas.ts';
