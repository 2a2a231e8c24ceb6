// The operator on real Knative Eventing in a sealed cluster, installed as a user installs it:
// Knative Eventing from its own config/, the Serving CRDs (Serving itself cannot run here), then
// `kubectl apply -k knative/` unchanged, then the ksvc stand-in (knative-service.ts), then waiting
// for Knative's own Ready conditions on the Broker, Triggers and sources.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installServingCrds, repoRoot, type Cluster } from '../cluster/index.ts';
import { installKnativeEventing } from '../cluster/knative-eventing.ts';
import { waitFor } from '../cluster/wait.ts';
import { serveKnativeServices } from './knative-service.ts';

export const OPERATOR_NAMESPACE = 'streamer-operator-system';
const KNATIVE_KINDS = ['brokers.eventing.knative.dev', 'triggers.eventing.knative.dev', 'apiserversources.sources.knative.dev', 'pingsources.sources.knative.dev'];

export type KnativeSandbox = {
  /** The ksvc stand-in's address (what the Triggers resolve the ksvc to). */
  functionsUrl: string;
  /** Log files of the functions' replicas (one per Pod). */
  functionLogs(): string[];
};

/** Builds the production bundle the image runs (dist/), unless it is there. */
async function ensureBundle(): Promise<void> {
  if (existsSync(join(repoRoot, 'dist', 'index.js'))) return;
  await new Promise<void>((resolve, reject) =>
    execFile('npm', ['run', 'build'], { cwd: repoRoot, timeout: 120_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`npm run build: ${stderr}`)) : resolve())),
  );
}

export async function startKnativeSandbox(cluster: Cluster, { replicas = 2, log = () => undefined }: { replicas?: number; log?: (line: string) => void } = {}): Promise<KnativeSandbox> {
  const sealed = cluster.sealed;
  if (!sealed) throw new Error('real Knative needs a cluster started with network: "sealed"');
  const started = Date.now();
  await ensureBundle();
  await installKnativeEventing({ kubectl: cluster.kubectl, knativeBinDir: sealed.knativeBinDir, runDir: cluster.runDir, log });
  await installServingCrds(cluster.kubectl, cluster.runDir);
  // As a user would; the webhook may still be warming its informers, so a refusal is retried a while.
  await waitFor('kubectl apply -k knative/', async () => {
    const result = await cluster.kubectl.run(['apply', '-k', join(repoRoot, 'knative')], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return true;
  }, { timeoutMs: 90_000, intervalMs: 2_000 });
  const urls = await serveKnativeServices(cluster.kubectl, OPERATOR_NAMESPACE, replicas);
  await waitForKnativeReady(cluster);
  await waitForSettledPods(cluster);
  await waitForDataPath(cluster, () => sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator'));
  log(`knative/ applied on real Knative Eventing; Broker, Triggers and sources Ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    functionsUrl: urls['streamer-operator'] ?? '',
    functionLogs: () => sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator'),
  };
}

type Conditioned = { metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };

/** Until the Broker, every Trigger, ApiServerSource and PingSource says Ready=True. */
export async function waitForKnativeReady(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  let last = '';
  await waitFor('the Broker, Triggers and sources Ready', async () => {
    const list = await cluster.kubectl.json<{ items: (Conditioned & { kind: string })[] }>(['get', KNATIVE_KINDS.join(','), '-n', OPERATOR_NAMESPACE]);
    const notReady = list.items.filter((o) => readyCondition(o)?.status !== 'True');
    last = notReady.map((o) => `${o.kind}/${o.metadata.name}: ${JSON.stringify(readyCondition(o) ?? 'no Ready condition')}`).join('; ');
    return list.items.length > 0 && notReady.length === 0 ? true : undefined;
  }, { timeoutMs, intervalMs: 1_000 }).catch((error: Error) => {
    throw new Error(`${error.message}; not ready: ${last}`);
  });
}

type DeploymentLike = { metadata: { name: string; generation?: number }; spec: { replicas?: number }; status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number } };

/**
 * Until every Deployment of the operator's namespace (the adapters the Knative controller made,
 * the functions) has rolled out with no old Pod left, and the process runner runs each of its
 * Pods: Ready conditions come first, and an event sent while an adapter is being replaced is lost.
 */
async function waitForSettledPods(cluster: Cluster): Promise<void> {
  const kubelet = cluster.sealed?.kubelet;
  await waitFor('the operator namespace\'s Deployments rolled out and running', async () => {
    const deployments = await cluster.kubectl.json<{ items: DeploymentLike[] }>(['get', 'deployments', '-n', OPERATOR_NAMESPACE]);
    const settled = deployments.items.every((d) =>
      d.status?.observedGeneration === d.metadata.generation && d.status?.replicas === (d.spec.replicas ?? 1) && d.status?.updatedReplicas === (d.spec.replicas ?? 1));
    if (!settled) return undefined;
    const pods = await cluster.kubectl.json<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(['get', 'pods', '-n', OPERATOR_NAMESPACE]);
    const running = new Set(kubelet?.running() ?? []);
    return pods.items.every((p) => !p.metadata.deletionTimestamp && running.has(`${OPERATOR_NAMESPACE}/${p.metadata.name}`)) ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
}

/**
 * Until one event really travels ApiServerSource → Broker → Trigger → reconcile-children: a
 * labelled ConfigMap's ref.update, sent again until a function logs it. Ready conditions can come
 * before the channel dispatcher serves the new subscriptions, and an event sent then is dropped.
 */
async function waitForDataPath(cluster: Cluster, logs: () => string[]): Promise<void> {
  const name = 'sandbox-data-path-probe';
  const manifest = (round: number) => JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name, namespace: OPERATOR_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } },
    data: { round: String(round) },
  });
  let round = 0;
  await waitFor('an event through the Broker to the functions', async () => {
    await cluster.kubectl.ok(['apply', '-f', '-'], { input: manifest(++round) });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const texts = await Promise.all(logs().map((f) => readFile(f, 'utf8').catch(() => '')));
    return texts.join('\n').includes(`ConfigMap ${OPERATOR_NAMESPACE}/${name}`) ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  await cluster.kubectl(['delete', 'configmap', name, '-n', OPERATOR_NAMESPACE]);
}

export function readyCondition(object: Conditioned) {
  return object.status?.conditions?.find((c) => c.type === 'Ready');
}
