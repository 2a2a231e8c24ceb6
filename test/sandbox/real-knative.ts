// The operator on real Knative Eventing in a sealed cluster, installed as a user installs it:
// Knative Eventing from its own config/, the Serving CRDs (Serving itself cannot run here), then
// `kubectl apply -k knative/` unchanged, then the ksvc stand-in (knative-service.ts), then waiting
// for Knative's own Ready conditions on the Broker, Triggers and sources.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, servingCrds, type Cluster } from '../cluster/index.ts';
import { installKnativeEventing } from '../cluster/knative-eventing.ts';
import { waitFor } from '../cluster/wait.ts';
import { phaseClock } from '../cluster/phases.ts';
import { DELIVERY_PROXY_IMAGE } from '../cluster/images.ts';
import { deliveryRecord, type DeliveryRecord } from './deliveries.ts';
import { serveKnativeServices } from './knative-service.ts';
import { podMediaServers, type PodMediaServers } from './pod-media.ts';
import { sendInside, type InsideAnswer } from './send-inside.ts';

export const OPERATOR_NAMESPACE = 'streamer-operator-system';
const KNATIVE_KINDS = ['brokers.eventing.knative.dev', 'triggers.eventing.knative.dev', 'apiserversources.sources.knative.dev', 'pingsources.sources.knative.dev'];

export type KnativeSandbox = {
  /** The ksvc stand-in's address (what the Triggers resolve the ksvc to). */
  functionsUrl: string;
  /** Log files of the functions' replicas (one per Pod). */
  functionLogs(): string[];
  /** What the delivery proxy saw (options.deliveryProxy), read from its file in the run dir. */
  broker: DeliveryRecord;
  /**
   * One resync tick now, as the PingSource sends it: the ping CloudEvent posted to the Broker's
   * ingress from inside the sealed network (the host never dials it).
   */
  tick(): Promise<void>;
  /**
   * Sends a CloudEvent (binary or structured, as given) to the Broker's ingress from inside the
   * sealed network with a token of the operator namespace, as a source there would; the real
   * Trigger filters route it. Resolves with the ingress's answer (202 when accepted).
   */
  publish(event: { headers: Record<string, string>; body: string }): Promise<InsideAnswer>;
  /** The media doubles run as the streamer Pods, seen and steered through files. */
  media: PodMediaServers;
  /**
   * Loses events on purpose: deletes the ApiServerSources (Knative's controller removes their
   * adapters) and the PingSource (no resync tick comes while they are gone), and brings them
   * back as a user would, `kubectl apply -k knative/`, until they are Ready and an event has
   * travelled again.
   */
  stopSources(): Promise<void>;
  startSources(): Promise<void>;
  /**
   * Until the ApiServerSource adapters watch `namespace`: with `namespaceSelector: {}` Knative's
   * controller writes the list of namespaces into each adapter's config, so a namespace created
   * or deleted rolls the adapter Deployments, and an event in that window is lost (the new
   * adapter sends nothing for objects that already exist; the resync repairs it).
   */
  sourcesWatch(namespace: string): Promise<void>;
};

export type KnativeSandboxOptions = {
  replicas?: number;
  log?: (line: string) => void;
  /**
   * Put the tests' delivery proxy (test/delivery-proxy/serve.ts) between Knative and the
   * functions: the ksvc's address becomes the proxy's Service; with maxDelayMs every delivery is
   * duplicated and delayed. @default a proxy with no chaos
   */
  chaos?: { maxDelayMs: number };
  /** Knative Eventing is installed already: the cluster was started with `alongside: installEventing(log)`. */
  eventingInstalled?: boolean;
};

/**
 * Installs Knative Eventing (and the Serving CRDs) and builds the bundle, for startCluster's
 * `alongside`: it needs only the API server, so it runs while the controller manager, kwok and
 * the add-ons start (a warm npm start went from 32.7-35.3 s to 30.8-33.2 s).
 */
export function installEventing(log: (line: string) => void = () => undefined) {
  return async ({ kubectl, runDir, knativeBinDir }: { kubectl: Cluster['kubectl']; runDir: string; knativeBinDir?: string }): Promise<void> => {
    if (!knativeBinDir) throw new Error('real Knative needs a cluster started with network: "sealed"');
    await ensureBundle();
    await installKnativeEventing({ kubectl, knativeBinDir, runDir, log, extraCrds: await servingCrds() });
  };
}

const PROXY = 'streamer-operator-delivery-proxy';

/** The proxy's Deployment and Service, forwarding to `upstream`, recording to `recordFile`. */
function deliveryProxy(upstream: string, recordFile: string, maxDelayMs: number) {
  const labels = { app: PROXY };
  return {
    apiVersion: 'v1', kind: 'List', items: [
      {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: PROXY, namespace: OPERATOR_NAMESPACE, labels },
        spec: {
          replicas: 1, selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'proxy', image: `${DELIVERY_PROXY_IMAGE}:test`, env: [
              { name: 'UPSTREAM', value: upstream }, { name: 'RECORD_FILE', value: recordFile },
              { name: 'PORT', value: '8080' }, { name: 'DUPLICATE_MAX_DELAY_MS', value: String(maxDelayMs) },
            ], ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: PROXY, namespace: OPERATOR_NAMESPACE, labels }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    ],
  };
}

/** Builds the production bundle the image runs (dist/), unless it is there. */
async function ensureBundle(): Promise<void> {
  if (existsSync(join(repoRoot, 'dist', 'index.js'))) return;
  await new Promise<void>((resolve, reject) =>
    execFile('npm', ['run', 'build'], { cwd: repoRoot, timeout: 120_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`npm run build: ${stderr}`)) : resolve())),
  );
}

export async function startKnativeSandbox(cluster: Cluster, { replicas = 2, log = () => undefined, chaos, eventingInstalled = false }: KnativeSandboxOptions = {}): Promise<KnativeSandbox> {
  const sealed = cluster.sealed;
  if (!sealed) throw new Error('real Knative needs a cluster started with network: "sealed"');
  const started = Date.now();
  const phase = phaseClock('knative-sandbox', log);
  if (!eventingInstalled) {
    await installEventing(log)({ kubectl: cluster.kubectl, runDir: cluster.runDir, knativeBinDir: sealed.knativeBinDir });
    phase('install Knative Eventing (and the Serving CRDs)');
  }
  // As a user would; the webhook may still be warming its informers, so a refusal is retried a while.
  await waitFor('kubectl apply -k knative/', async () => {
    const result = await cluster.kubectl.run(['apply', '-k', join(repoRoot, 'knative')], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return true;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  phase('kubectl apply -k knative/');
  const recordFile = join(cluster.runDir, 'deliveries.jsonl');
  const proxyUrl = `http://${PROXY}.${OPERATOR_NAMESPACE}.svc.cluster.local`;
  // The ksvc's address is the delivery proxy's, which forwards to the stand-in.
  await serveKnativeServices(cluster.kubectl, OPERATOR_NAMESPACE, replicas, (name, standInUrl) =>
    (name === 'streamer-operator' ? { url: proxyUrl, objects: deliveryProxy(standInUrl, recordFile, chaos?.maxDelayMs ?? 0).items } : undefined));
  phase('ksvc stand-in, delivery proxy, ksvc status');
  await sealed.dnsReady;
  phase('cluster DNS answering');
  await waitForKnativeReady(cluster);
  phase('Broker, Triggers, sources Ready');
  await waitFor('the Triggers resolved to the delivery proxy', async () => {
    const triggers = await cluster.kubectl.json<{ items: { status?: { subscriberUri?: string } }[] }>(['get', 'triggers.eventing.knative.dev', '-n', OPERATOR_NAMESPACE]);
    return triggers.items.length > 0 && triggers.items.every((t) => t.status?.subscriberUri?.startsWith(proxyUrl)) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  phase('Triggers resolved to the proxy');
  await waitForSettledPods(cluster);
  phase('Deployments rolled out, Pods running');
  await waitForDataPath(cluster, () => sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator'));
  phase('first event through the Broker');
  log(`knative/ applied on real Knative Eventing; Broker, Triggers and sources Ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const record = deliveryRecord(recordFile);
  const ingress = await cluster.kubectl.ok(['get', 'service', 'broker-ingress', '-n', 'knative-eventing', '-o', 'jsonpath={.spec.clusterIP}']);
  // OIDC is on: the ingress admits a token for the Broker's audience from the Broker's own
  // namespace, as the PingSource there sends it. One token an hour (a kubectl call costs seconds).
  let token: { value: string; until: number } | undefined;
  const bearer = async () => {
    if (!token || Date.now() > token.until) {
      const value = (await cluster.kubectl.ok(['create', 'token', 'default', '-n', OPERATOR_NAMESPACE, '--duration=1h', `--audience=eventing.knative.dev/broker/${OPERATOR_NAMESPACE}/streamer-operator`])).trim();
      token = { value, until: Date.now() + 50 * 60_000 };
    }
    return token.value;
  };
  // The ingress answers once the channel has fanned the event out to the Triggers, Knative's
  // retries included (backoff up to about 32 s in knative/), so the sender waits up to 90 s.
  const publish: KnativeSandbox['publish'] = async (event) => sendInside(sealed.net, {
    url: `http://${ingress.trim()}/${OPERATOR_NAMESPACE}/streamer-operator`,
    headers: { ...event.headers, authorization: `Bearer ${await bearer()}` },
    body: event.body,
    timeoutMs: 90_000,
  });
  return {
    functionsUrl: proxyUrl,
    functionLogs: () => sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator'),
    broker: record,
    media: podMediaServers(cluster),
    async sourcesWatch(namespace) {
      await waitFor(`the ApiServerSource adapters configured for ${namespace}`, async () => {
        const deployments = await cluster.kubectl.json<{ items: { metadata: { name: string }; spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }[] }>(['get', 'deployments', '-n', OPERATOR_NAMESPACE]);
        // The adapters of sources watching every namespace (source-adapters watches only its own).
        const config = (d: (typeof deployments.items)[number]) => JSON.parse(d.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'K_SOURCE_CONFIG')?.value ?? '{}') as { namespaces?: string[]; Namespaces?: string[]; allNamespaces?: boolean };
        const adapters = deployments.items.filter((d) => d.metadata.name.startsWith('apiserversource-') && config(d).allNamespaces === true);
        // Exactly the namespaces there are: a namespace deleted just before would roll them again.
        const existing = (await cluster.kubectl.ok(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).sort().join(',');
        const watched = (d: (typeof adapters)[number]) => {
          const { namespaces, Namespaces } = config(d);
          return [...(namespaces ?? Namespaces ?? [])].sort().join(',');
        };
        const configured = existing.split(',').includes(namespace) && adapters.length > 0 && adapters.every((d) => watched(d) === existing);
        return configured ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 250 });
      await waitForSettledPods(cluster);
      // A running adapter may not watch yet: until a labelled ConfigMap's event in the namespace
      // reaches the functions, sent again each round.
      const name = `sources-watch-probe-${namespace}`;
      let round = 0;
      await waitFor(`an event from ${namespace} through the Broker`, async () => {
        await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } }, data: { round: String(++round) } }) });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return record.deliveries.some((d) => d.kind === 'ConfigMap' && d.name === name) ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 250 });
      await cluster.kubectl.ok(['delete', 'configmap', name, '-n', namespace]);
    },
    async stopSources() {
      await cluster.kubectl.ok(['delete', 'apiserversources.sources.knative.dev,pingsources.sources.knative.dev', '--all', '-n', OPERATOR_NAMESPACE, '--wait=true', '--timeout=60s']);
      await waitFor('the ApiServerSource adapters stopped', async () =>
        (sealed.kubelet.running().some((key) => key.startsWith(`${OPERATOR_NAMESPACE}/apiserversource-`)) ? undefined : true), { timeoutMs: 60_000, intervalMs: 250 });
    },
    async startSources() {
      await cluster.kubectl.ok(['apply', '-k', join(repoRoot, 'knative')], { timeoutMs: 60_000 });
      await waitForKnativeReady(cluster);
      await waitForSettledPods(cluster);
      await waitForDataPath(cluster, () => sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator'));
    },
    publish,
    async tick() {
      const { status, answer } = await publish({
        headers: {
          'ce-specversion': '1.0', 'ce-type': 'dev.knative.sources.ping', 'ce-id': randomUUID(), 'ce-time': new Date().toISOString(),
          'ce-source': `/apis/v1/namespaces/${OPERATOR_NAMESPACE}/pingsources/streamer-resync`, 'content-type': 'application/json',
        },
        body: '{"op":"resync"}',
      });
      if (status < 200 || status > 299) throw new Error(`ping to the Broker from the sealed network: ${status} ${answer}`);
    },
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
  }, { timeoutMs, intervalMs: 300 }).catch((error: Error) => {
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
  const arrived = async () => (await Promise.all(logs().map((f) => readFile(f, 'utf8').catch(() => '')))).join('\n').includes(`ConfigMap ${OPERATOR_NAMESPACE}/${name}`);
  await waitFor('an event through the Broker to the functions', async () => {
    await cluster.kubectl.ok(['apply', '-f', '-'], { input: manifest(++round) });
    // Looked for every 100 ms for 0.6 s (the delivery floor's p99 is about 0.25 s), then the
    // ConfigMap changes again: an event sent while the dispatcher did not serve the subscription
    // yet is dropped, not retried, and waiting longer for it only delays the next one.
    for (let i = 0; i < 6; i++) {
      if (await arrived()) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }, { timeoutMs: 120_000, intervalMs: 0 });
  await cluster.kubectl(['delete', 'configmap', name, '-n', OPERATOR_NAMESPACE]);
}

export function readyCondition(object: Conditioned) {
  return object.status?.conditions?.find((c) => c.type === 'Ready');
}
