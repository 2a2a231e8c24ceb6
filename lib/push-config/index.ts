// push-config: hot configuration through the media server API and StreamerConfigSaved (re-exports only).
export { isSettled, pushConfig, PUSH_CONFIG_FIELD_MANAGER, type PushOutcome, type PushReason } from './push-config.ts';
export { saveConfig, type MediaSettings, type PushResult } from './save.ts';
export { findStreamerPod, type StreamerPod } from './streamer-pod.ts';
export { EditAuthUnavailableError, readEditAuth, type EditAuthValue } from './edit-auth-source.ts';
export { configHash } from './config-hash.ts';
