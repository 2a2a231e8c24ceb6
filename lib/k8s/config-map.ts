// The `<name>-config` ConfigMap: the media server config the operator renders.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { CONFIG_FILE, renderMediaServerConfig } from './media-server-config.ts';
import { childMetadata, childNames } from './meta.ts';

/**
 * One key, CONFIG_FILE, with the rendered config. The StatefulSet mounts the ConfigMap as a
 * directory (no subPath), so kubelet updates the file in the running Pod; push-config applies
 * the same text through the API without a restart. Holds no secrets.
 */
export function buildConfigMap(streamer: Streamer): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(streamer, childNames(streamer).configMap),
    data: { [CONFIG_FILE]: renderMediaServerConfig(streamer) },
  };
}
