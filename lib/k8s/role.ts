// The `<name>-role` Role: what the media server itself may do with the Kubernetes API.
import type { V1Role } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { childMetadata, childNames } from './meta.ts';

/**
 * Least privilege: get, update and patch on the one `<name>-license-storage` Secret
 * (FLUSSONIC_SECRETS_STORAGE). No list/watch, no create, no other Secret.
 */
export function buildRole(streamer: Streamer): V1Role {
  const names = childNames(streamer);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: childMetadata(streamer, names.role),
    rules: [
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: [names.licenseStorageSecret],
        verbs: ['get', 'update', 'patch'],
      },
    ],
  };
}
