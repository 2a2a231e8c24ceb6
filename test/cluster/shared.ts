// One control plane per `npm test` run, shared by every test file.
//
// test/run.ts calls startSharedCluster() once and passes the cluster's
// description to each test process in STREAMER_TEST_CLUSTER. A test file calls
// useCluster(): it connects to that cluster, or, when the file runs alone
// (`node test/x.test.ts`), starts its own and stops it when the process exits.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubectlRunner } from './kubectl.ts';
import { createNamespace, deleteTestNamespaces, repoRoot, startCluster, type Cluster, type ClusterInfo } from './index.ts';

const ENV = 'STREAMER_TEST_CLUSTER';
const crdDirs = [join(repoRoot, 'crds')];

export async function startSharedCluster(): Promise<{ env: Record<string, string>; cleanBetweenFiles(): Promise<void>; stop(): Promise<void> }> {
  const cluster = await startCluster({ crdDirs, knativeCrds: true });
  const file = join(cluster.runDir, 'cluster.json');
  const info: ClusterInfo = {
    kubeconfig: cluster.kubeconfig, server: cluster.server, token: cluster.token, caPem: cluster.caPem,
    binDir: cluster.binDir, runDir: cluster.runDir, nodes: cluster.nodes, pids: cluster.pids, network: cluster.network, clientCa: cluster.clientCa,
  };
  await writeFile(file, JSON.stringify(info));
  return {
    env: { [ENV]: file, KUBECONFIG: cluster.kubeconfig },
    // Test files share one cluster; what one leaves running (Pods holding hostPort 81 on
    // stream-node) must not reach the next.
    cleanBetweenFiles: () => deleteTestNamespaces(cluster.kubectl),
    stop: cluster.stop,
  };
}

let current: Promise<Cluster> | undefined;

export function useCluster(): Promise<Cluster> {
  current ??= connect();
  return current;
}

async function connect(): Promise<Cluster> {
  const file = process.env[ENV];
  if (!file) {
    const cluster = await startCluster({ crdDirs, knativeCrds: true });
    // uvu runs suites after imports settle; stop when the event loop drains.
    process.once('beforeExit', () => void cluster.stop());
    return cluster;
  }
  const info = JSON.parse(await readFile(file, 'utf8')) as ClusterInfo;
  const kubectl = kubectlRunner({ binDir: info.binDir, kubeconfig: info.kubeconfig });
  return {
    ...info,
    kubectl,
    createNamespace: (prefix: string) => createNamespace(kubectl, prefix),
    // The runner owns the shared cluster; a test file must not stop it.
    async stop() {},
  };
}
