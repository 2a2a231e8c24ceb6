// The media-server test double (re-exports only). See server.ts for the contract.
export { startMediaDouble, type MediaDouble, type MediaDoubleFault, type MediaDoubleOptions, type RecordedRequest } from './server.ts';
export type { AuthScheme } from './auth.ts';
export type { DoubleConfig } from './config-model.ts';
export { parseConfigText } from './config-text.ts';
