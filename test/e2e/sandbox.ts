// One sandbox (adapters, broker, functions, media doubles) per end-to-end test file.
import { useCluster } from '../cluster/shared.ts';
import { startSandbox, type Sandbox } from '../sandbox/operator.ts';
import type { Cluster } from '../cluster/index.ts';

export async function useSandbox(options: { mediaServers?: boolean; chaos?: { maxDelayMs: number }; replicas?: number } = {}): Promise<{ cluster: Cluster; sandbox: Sandbox }> {
  const cluster = await useCluster();
  const sandbox = await startSandbox({
    kubeconfig: cluster.kubeconfig,
    binDir: cluster.binDir,
    resyncIntervalMs: 0, // tests tick by hand
    mediaServers: options.mediaServers ?? true,
    ...(options.chaos ? { chaos: options.chaos } : {}),
    ...(options.replicas ? { replicas: options.replicas } : {}),
  });
  return { cluster, sandbox };
}

/** A binary-mode CloudEvent as the ApiServerSource adapter sends it. */
export function apiServerEvent(type: string, object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }, data: unknown, id = crypto.randomUUID()) {
  return {
    headers: {
      'ce-specversion': '1.0',
      'ce-type': type,
      'ce-source': 'https://127.0.0.1:6443',
      'ce-id': id,
      'ce-subject': `/apis/${object.apiVersion}/namespaces/${object.metadata.namespace}/x/${object.metadata.name}`,
      'ce-kind': object.kind,
      'ce-name': object.metadata.name,
      'ce-namespace': object.metadata.namespace ?? '',
      'ce-apiversion': object.apiVersion,
      'content-type': 'application/json',
    },
    body: JSON.stringify(data),
  };
}
