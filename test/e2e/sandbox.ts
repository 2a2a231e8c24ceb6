// One sandbox per end-to-end test file: useRealSandbox (real Knative, sealed network).
import { join } from 'node:path';
import { repoRoot, startCluster, type Cluster } from '../cluster/index.ts';
import { installEventing, startKnativeSandbox, type KnativeSandbox } from '../sandbox/real-knative.ts';

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

/**
 * The operator on real Knative Eventing (test/sandbox/real-knative.ts) in this file's own sealed
 * cluster: Broker, Triggers, ApiServerSources and PingSource from `kubectl apply -k knative/`,
 * the ksvc stand-in with `replicas` replicas, the tests' delivery proxy in front of it (chaos:
 * every delivery duplicated and delayed), the media-server doubles run as the streamer Pods.
 * `nodes`: the kwok nodes (@default just `stream-node`); `sharedMedia`: one media-double process
 * serves every streamer Pod (startCluster's, for hundreds of Pods); `log`: progress lines (@default stderr).
 */
export async function useRealSandbox(options: { chaos?: { maxDelayMs: number }; replicas?: number; nodes?: string[]; sharedMedia?: boolean; log?: (line: string) => void } = {}): Promise<{ cluster: Cluster; sandbox: KnativeSandbox & { stop(): Promise<void> } }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: options.nodes ?? ['stream-node'], sharedMedia: options.sharedMedia ?? false, alongside: installEventing(log), log });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= cluster.stop());
  process.once('beforeExit', () => void stop());
  const knative = await startKnativeSandbox(cluster, { replicas: options.replicas ?? 2, ...(options.chaos ? { chaos: options.chaos } : {}), log, eventingInstalled: true })
    .catch(async (error) => {
      await cluster.stop();
      throw error;
    });
  // A test's new namespace is only usable once the adapters watch it (see sourcesWatch).
  const createNamespace = async (prefix: string) => {
    const namespace = await cluster.createNamespace(prefix);
    await knative.sourcesWatch(namespace);
    return namespace;
  };
  return { cluster: { ...cluster, createNamespace }, sandbox: { ...knative, stop } };
}
