// `node bench/real-knative.ts`: the operator on real Knative Eventing in a sealed cluster
// (test/sandbox/real-knative.ts), measured: warm start to ready (cluster + Knative + knative/
// applied + Broker, Triggers and sources Ready), peak memory of the whole sandbox, the delivery
// floor (an ApiServerSource event → Broker → Trigger → a no-op subscriber), and a Streamer's
// create → all seven children and edit → StreamerConfigSaved through the same path. Prints a
// markdown block for BENCHMARKS.md. Needs root (sealed network); bounded (every wait times out).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKubeClient, type KubeObject } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { CHILD_KINDS } from '../test/reconcile/helpers.ts';
import { OPERATOR_NAMESPACE, readyCondition, startKnativeSandbox } from '../test/sandbox/real-knative.ts';
import { rssKb, sandboxPids } from './sandbox-processes.ts';

const FLOOR_EVENTS = Number(process.env.FLOOR_EVENTS ?? 60);
const STREAMERS = Number(process.env.STREAMERS ?? 5);

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const ms = (value: number) => `${Math.round(value)} ms`;

/** RSS of every process of this run's sandbox, summed (bench/sandbox-processes.ts). */
const sandboxRssMiB = (pids: number[]) => sandboxPids(pids).reduce((kib, pid) => kib + rssKb(pid), 0) / 1024;

const started = performance.now();
const cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], log: () => undefined });
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, sandboxRssMiB(cluster.pids))), 2_000);
try {
  const clusterReady = performance.now();
  const sandbox = await startKnativeSandbox(cluster, { replicas: 2 });
  const ready = performance.now();
  process.stderr.write(`ready after ${((ready - started) / 1000).toFixed(1)} s\n`);
  const kube = createKubeClient({ transport: await transportFromKubeconfig(cluster.kubeconfig), fieldManager: 'bench' });
  const logLines = async () => (await Promise.all(sandbox.functionLogs().map((f) => readFile(f, 'utf8').catch(() => ''))))
    .join('\n').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

  // Delivery floor: a managed ConfigMap's ref.add, routed by a Trigger to the functions' no-op /dead-letter.
  const ns = await cluster.createNamespace('bench-floor');
  // Knative rolls the adapters for a new namespace (docs/install.md): measure after they watch it.
  await sandbox.sourcesWatch(ns);
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name: 'bench-floor', namespace: OPERATOR_NAMESPACE },
    spec: {
      broker: 'streamer-operator',
      filters: [{ all: [{ exact: { type: 'dev.knative.apiserver.ref.add' } }, { exact: { kind: 'ConfigMap' } }, { prefix: { name: 'floor-' } }] }],
      subscriber: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'streamer-operator' }, uri: '/dead-letter' },
    },
  }) });
  // OIDC is on: the functions admit only the senders their EventPolicy lists, so the bench's
  // Trigger joins it (as a user adding a Trigger to the functions would).
  await cluster.kubectl.ok(['patch', 'eventpolicies.eventing.knative.dev', 'streamer-operator', '-n', OPERATOR_NAMESPACE, '--type=json', '-p', JSON.stringify([
    { op: 'add', path: '/spec/from/-', value: { ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', name: 'bench-floor', namespace: OPERATOR_NAMESPACE } } },
  ])]);
  await waitFor('Trigger bench-floor Ready', async () => {
    const trigger = await cluster.kubectl.json<{ metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }>(['get', 'trigger', 'bench-floor', '-n', OPERATOR_NAMESPACE]);
    return readyCondition(trigger)?.status === 'True' ? true : undefined;
  }, { timeoutMs: 60_000 });
  const deliver = async (name: string, timeoutMs: number) => {
    const sent = Date.now();
    await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } } });
    const line = await waitFor(`delivery of ${name}`, async () => (await logLines()).find((l) => l.outcome === 'dead-letter' && String(l.subject).endsWith(`/configmaps/${name}`)), { timeoutMs, intervalMs: 20 });
    return Date.parse(String(line.time)) - sent;
  };
  // Ready conditions come before the data path settles (the controller may still replace an
  // adapter's Deployment): measure from the first event that gets through.
  let warm = false;
  for (let i = 0; i < 12 && !warm; i++) warm = await deliver(`floor-warmup-${i}`, 10_000).then(() => true, () => false);
  if (!warm) throw new Error('no warm-up event was delivered in 12 tries');
  const floor: number[] = [];
  for (let i = 0; i < FLOOR_EVENTS; i++) floor.push(await deliver(`floor-${i}`, 30_000));
  process.stderr.write(`floor: ${floor.join(' ')}\n`);

  // A Streamer through the whole path: create → all seven children; edit → StreamerConfigSaved.
  const creates: number[] = [];
  const edits: number[] = [];
  for (let i = 0; i < STREAMERS; i++) {
    const sns = await cluster.createNamespace('bench-streamer');
    await sandbox.sourcesWatch(sns);
    await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', sns, '--from-literal=license_key=bench']);
    const t0 = Date.now();
    await kube.create({ ...quickstartManifest, metadata: { ...quickstartManifest.metadata, namespace: sns } } as never);
    await waitFor('seven children', async () => {
      for (const [apiVersion, kind, suffix] of CHILD_KINDS) if (!(await kube.get({ apiVersion, kind, namespace: sns, name: `simple-${suffix}` }))) return undefined;
      return true;
    }, { timeoutMs: 60_000, intervalMs: 20 });
    creates.push(Date.now() - t0);
    type S = KubeObject & { status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } };
    let last = '';
    const conditionTrue = (type: string) => waitFor(type, async () => {
      const s = await kube.get<S>({ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', namespace: sns, name: 'simple' });
      const c = s?.status?.conditions?.find((x) => x.type === type);
      last = JSON.stringify(s?.status?.conditions);
      return c?.status === 'True' && c.observedGeneration === s?.metadata.generation ? true : undefined;
    }, { timeoutMs: 90_000, intervalMs: 20 }).catch((error: Error) => {
      throw new Error(`${error.message}; last conditions ${last}`);
    });
    const saved = () => conditionTrue('StreamerConfigSaved');
    // As the test does: the media server must be up (StreamerReady) before its config is saved.
    await conditionTrue('StreamerReady');
    await saved();
    const t1 = Date.now();
    await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', sns, '--type=merge', '-p', JSON.stringify({ spec: { configExtra: { 'extra.conf': `stream s${i} {\n  input fake://fake;\n}\n` } } })]);
    await saved();
    edits.push(Date.now() - t1);
    process.stderr.write(`streamer ${i}: create → children ${creates.at(-1)} ms, edit → saved ${edits.at(-1)} ms\n`);
    // The quickstart binds hostPort 81 on stream-node: one such Pod at a time.
    await cluster.kubectl.ok(['delete', 'namespace', sns, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
  }
  peak = Math.max(peak, sandboxRssMiB(cluster.pids));
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' / ');
  process.stdout.write([
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average at end ${load}`,
    `- Warm start to ready: ${((ready - started) / 1000).toFixed(1)} s (control plane + kube-proxy + CoreDNS ${((clusterReady - started) / 1000).toFixed(1)} s, then Knative Eventing, knative/ and the Broker, Triggers and sources Ready ${((ready - clusterReady) / 1000).toFixed(1)} s)`,
    `- Peak memory of the whole sandbox (RSS of every process, sampled every 2 s): ${Math.round(peak)} MiB`,
    `- Delivery floor, ApiServerSource event → Broker → Trigger → no-op subscriber (${floor.length} events, from the create request to the subscriber's log line): p50 ${ms(quantile(floor, 0.5))}, p99 ${ms(quantile(floor, 0.99))}`,
    `- Create → all seven children (${creates.length} Streamers): median ${ms(quantile(creates, 0.5))}, max ${ms(Math.max(...creates))}`,
    `- Edit → StreamerConfigSaved (${edits.length} edits): median ${ms(quantile(edits, 0.5))}, max ${ms(Math.max(...edits))}`,
    '',
  ].join('\n'));
} finally {
  clearInterval(sampler);
  await cluster.stop();
}
