// The `<name>-rb` RoleBinding: grants `<name>-role` to the Pod's ServiceAccount `<name>-sa`.
import type { V1RoleBinding } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { childMetadata, childNames } from './meta.ts';

export function buildRoleBinding(streamer: Streamer): V1RoleBinding {
  const names = childNames(streamer);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: childMetadata(streamer, names.roleBinding),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: streamer.metadata.namespace }],
  };
}
