// The Kubernetes kinds the operator touches, with their REST paths. A static
// table instead of API discovery: discovery costs requests on every cold start,
// and these kinds are fixed by the product.

export type ResourceInfo = { apiVersion: string; kind: string; plural: string; namespaced: boolean };

export const RESOURCES = [
  { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', plural: 'streamers', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  // The event sources' adapters, read (never written) to see a rollout end (lib/events/source-rollout.ts).
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { apiVersion: 'events.k8s.io/v1', kind: 'Event', plural: 'events', namespaced: true },
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
] as const satisfies readonly ResourceInfo[];

export type Kind = (typeof RESOURCES)[number]['kind'];

export class UnknownKindError extends Error {
  override name = 'UnknownKindError' as const;
  readonly code = 'KUBE_UNKNOWN_KIND' as const;
}

export function resourceOf(apiVersion: string, kind: string): ResourceInfo {
  const info = RESOURCES.find((r) => r.kind === kind && r.apiVersion === apiVersion);
  if (!info) throw new UnknownKindError(`the operator has no REST mapping for ${apiVersion} ${kind}`);
  return info;
}

/** `/api/v1/namespaces/ns/pods/name` or `/apis/apps/v1/namespaces/ns/statefulsets/name`. */
export function resourcePath(
  info: ResourceInfo,
  { namespace, name, subresource }: { namespace?: string; name?: string; subresource?: string },
): string {
  const root = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const named = name ? `/${encodeURIComponent(name)}` : '';
  const sub = subresource ? `/${subresource}` : '';
  return `${root}${scope}/${info.plural}${named}${sub}`;
}
