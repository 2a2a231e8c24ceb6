// Shared steps of the reconcile tests: a KubeClient on the test cluster, and
// reading a Streamer as the functions do.
import type { Cluster } from '../cluster/index.ts';
import { createKubeClient, type KubeClient, type KubeObject } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND } from '../../lib/schema/streamer.ts';
import type { StreamerManifest } from '../fixtures/streamers.ts';

export async function kubeFor(cluster: Cluster, fieldManager = 'streamer-operator'): Promise<KubeClient> {
  return createKubeClient({ transport: await transportFromKubeconfig(cluster.kubeconfig), fieldManager });
}

export async function applyStreamer(cluster: Cluster, namespace: string, manifest: StreamerManifest): Promise<void> {
  await cluster.kubectl.ok(['apply', '-n', namespace, '-f', '-'], { input: JSON.stringify(manifest) });
}

export async function readStreamer(kube: KubeClient, namespace: string, name: string): Promise<Streamer> {
  const object = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name });
  if (!object) throw new Error(`Streamer ${namespace}/${name} not found`);
  return Streamer.parse(object);
}

export const CHILD_KINDS = [
  ['v1', 'ServiceAccount', 'sa'],
  ['rbac.authorization.k8s.io/v1', 'Role', 'role'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb'],
  ['v1', 'Service', 'headless'],
  ['v1', 'ConfigMap', 'config'],
  ['v1', 'Secret', 'license-storage'],
  ['apps/v1', 'StatefulSet', 'streamer'],
] as const;

/** resourceVersion of every child, by kind. */
export async function childVersions(kube: KubeClient, namespace: string, name: string): Promise<Record<string, string | undefined>> {
  const versions: Record<string, string | undefined> = {};
  for (const [apiVersion, kind, suffix] of CHILD_KINDS) {
    const child = await kube.get<KubeObject>({ apiVersion, kind, namespace, name: `${name}-${suffix}` });
    versions[kind] = child?.metadata.resourceVersion;
  }
  return versions;
}
