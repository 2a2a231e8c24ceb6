// The Streamers the benches create: the spec's quickstart without its
// adminHostPort (one hostPort-81 Pod fits on a node; the benches run hundreds),
// on a node of the bench cluster, with the license Secret it refers to.
import type { KubeClient, KubeObject, KubeTransport } from '../lib/kube/client.ts';
import type { Cluster } from '../test/cluster/index.ts';
import type { KnativeSandbox } from '../test/sandbox/real-knative.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';

/** Nodes of the bench cluster: the quickstart's own, and four for the many-Streamer runs. */
export const BENCH_NODES = ['stream-node', 'bench-node-1', 'bench-node-2', 'bench-node-3', 'bench-node-4'] as const;

export function benchStreamer({ name, namespace, nodeName }: { name: string; namespace: string; nodeName: string }): KubeObject {
  const { adminHostPort: _hostPort, ...spec } = quickstartManifest.spec;
  return { apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, metadata: { name, namespace }, spec: { ...spec, nodeName } };
}

/** The Secret the quickstart's licenseKey names, so its Pod can start and become Ready. */
export async function createLicenseSecret(kube: KubeClient, namespace: string): Promise<void> {
  const ref = quickstartManifest.spec.licenseKey?.secretKeyRef;
  if (!ref?.name || !ref.key) throw new Error('the quickstart fixture no longer names a license Secret');
  await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace }, stringData: { [ref.key]: 'bench-license' } });
}

/** What a many-Streamer bench runs against, and where it reports progress. */
export type BenchRun = {
  cluster: Cluster;
  sandbox: KnativeSandbox;
  kube: KubeClient;
  transport: KubeTransport;
  count: number;
  progress: (line: string) => void;
};
