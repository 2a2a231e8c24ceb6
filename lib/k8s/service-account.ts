// The `<name>-sa` ServiceAccount the streamer Pod runs as (it needs a token to reach its
// license-storage Secret through the API).
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { childMetadata, childNames } from './meta.ts';

export function buildServiceAccount(streamer: Streamer): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMetadata(streamer, childNames(streamer).serviceAccount),
  };
}
