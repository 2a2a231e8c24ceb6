// monitoring/ with the real kube-state-metrics (built from k8s.io/kube-state-metrics/v2 by
// test/cluster/build.sh): run against the real API server as a ServiceAccount holding only
// monitoring/kube-state-metrics-rbac.yaml, with monitoring/kube-state-metrics-streamers.yaml,
// it exports each Streamer's conditions and status.ready on /metrics, follows status changes,
// and the example alert rules select the series of a Streamer in trouble.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { parse, parseAllDocuments } from 'yaml';
import { createKubeClient, type KubeObject } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { renderKubeconfig, repoRoot } from '../cluster/index.ts';
import { freePort } from '../cluster/ports.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';

const cluster = await useCluster();
const kube = createKubeClient({ transport: await transportFromKubeconfig(cluster.kubeconfig), fieldManager: 'monitoring-test' });
const namespace = await cluster.createNamespace('monitoring');
const work = await mkdtemp(join(tmpdir(), 'kube-state-metrics-'));
const monitoring = join(repoRoot, 'monitoring');

type Condition = { type: string; status: 'True' | 'False' | 'Unknown'; reason: string };

async function streamer(name: string, ready: boolean, conditions: Condition[]): Promise<void> {
  const type = { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer' };
  if (!(await kube.get({ ...type, namespace, name }))) {
    await kube.create({ ...type, metadata: { name, namespace }, spec: { version: 'v26.01-5', nodeName: 'stream-node' } } as KubeObject);
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube.apply({
    ...type, metadata: { name, namespace },
    status: { ready, conditions: conditions.map((c) => ({ ...c, message: `${c.reason} (test)`, lastTransitionTime: now, observedGeneration: 1 })) },
  } as KubeObject, { subresource: 'status', force: true });
}

type Series = { name: string; labels: Record<string, string>; value: number };

/** The Prometheus text exposition, parsed (label values without escapes, which these have none of). */
function parseMetrics(text: string): Series[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    return { name: match[1]!, labels, value: Number(match[3]) };
  });
}

let ksm: ChildProcess | undefined;
let metricsUrl = '';
const scrape = async () => {
  const response = await request(metricsUrl);
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
  return parseMetrics(text).filter((s) => s.name.startsWith('kube_streamer_') && s.labels.namespace === namespace);
};
const find = (series: Series[], name: string, labels: Record<string, string>) =>
  series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const ksmSuite = suite('kube-state-metrics with monitoring/');

ksmSuite.before(async () => {
  // kube-state-metrics as a ServiceAccount with exactly the documented extra RBAC.
  await cluster.kubectl.ok(['create', 'serviceaccount', 'kube-state-metrics', '-n', namespace]);
  const rbac = parseAllDocuments(await readFile(join(monitoring, 'kube-state-metrics-rbac.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject & { subjects?: { namespace: string }[] });
  for (const object of rbac) {
    object.metadata.name = `${object.metadata.name}-${namespace}`;
    if (object.kind === 'ClusterRoleBinding') {
      (object as unknown as { roleRef: { name: string } }).roleRef.name = `kube-state-metrics-streamers-${namespace}`;
      for (const subject of object.subjects ?? []) subject.namespace = namespace;
    }
  }
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }) });
  const token = (await cluster.kubectl.ok(['create', 'token', 'kube-state-metrics', '-n', namespace, '--duration=1h'])).trim();
  const kubeconfig = join(work, 'kubeconfig');
  await writeFile(kubeconfig, renderKubeconfig({ server: cluster.server, token, caPem: cluster.caPem }));

  await streamer('healthy', true, [
    { type: 'StreamerReady', status: 'True', reason: 'StatefulSetReady' },
    { type: 'StreamerConfigSaved', status: 'True', reason: 'ConfigSaved' },
  ]);
  await streamer('broken', false, [
    { type: 'StreamerReady', status: 'False', reason: 'StatefulSetNotFound' },
    { type: 'StreamerConfigSaved', status: 'Unknown', reason: 'PodNotRunning' },
  ]);

  const [port, telemetryPort] = [await freePort(), await freePort()];
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const log = createWriteStream(join(work, 'kube-state-metrics.log'));
  ksm = spawn(join(cluster.binDir, 'kube-state-metrics'), [
    `--kubeconfig=${kubeconfig}`,
    '--custom-resource-state-only',
    `--custom-resource-state-config-file=${join(monitoring, 'kube-state-metrics-streamers.yaml')}`,
    '--host=127.0.0.1', `--port=${port}`,
    '--telemetry-host=127.0.0.1', `--telemetry-port=${telemetryPort}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  ksm.stdout!.pipe(log);
  ksm.stderr!.pipe(log);
});

ksmSuite.after(async () => {
  ksm?.kill('SIGTERM');
  if (ksm && ksm.exitCode === null) await new Promise((resolve) => ksm!.once('exit', resolve));
  await cluster.kubectl(['delete', 'clusterrolebinding,clusterrole', `kube-state-metrics-streamers-${namespace}`, '--ignore-not-found']);
  await rm(work, { recursive: true, force: true });
});

const failWithLog = async (error: unknown): Promise<never> => {
  const log = await readFile(join(work, 'kube-state-metrics.log'), 'utf8').catch(() => '');
  throw new Error(`${(error as Error).message}\n--- kube-state-metrics log\n${log.split('\n').slice(-30).join('\n')}`);
};

ksmSuite('each Streamer\'s conditions (type, status, reason) and status.ready', async () => {
  const series = await waitFor('both Streamers on /metrics', async () => {
    const found = await scrape().catch(() => []);
    return find(found, 'kube_streamer_status_ready', {}).length === 2 ? found : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 }).catch(failWithLog);
  const value = (name: string, labels: Record<string, string>) => find(series, name, labels).map((s) => s.value);
  assert.equal(value('kube_streamer_status_ready', { streamer: 'healthy' }), [1]);
  assert.equal(value('kube_streamer_status_ready', { streamer: 'broken' }), [0]);
  assert.equal(value('kube_streamer_status_condition', { streamer: 'healthy', type: 'StreamerReady', status: 'True', reason: 'StatefulSetReady' }), [1]);
  assert.equal(value('kube_streamer_status_condition', { streamer: 'healthy', type: 'StreamerConfigSaved', status: 'True', reason: 'ConfigSaved' }), [1]);
  assert.equal(value('kube_streamer_status_condition', { streamer: 'broken', type: 'StreamerReady', status: 'False', reason: 'StatefulSetNotFound' }), [1]);
  assert.equal(value('kube_streamer_status_condition', { streamer: 'broken', type: 'StreamerConfigSaved', status: 'Unknown', reason: 'PodNotRunning' }), [1]);
  assert.is(find(series, 'kube_streamer_status_condition', { streamer: 'broken' }).length, 2, 'one series per condition');
});

ksmSuite('the example alert rules select the Streamer in trouble, and not the healthy one', async () => {
  const rules = (parse(await readFile(join(monitoring, 'streamer-alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string; for: string }[] }[] }).groups.flatMap((g) => g.rules);
  assert.equal(rules.map((r) => [r.alert, r.for]), [['StreamerNotReady', '5m'], ['StreamerConfigNotSaved', '10m']]);
  const series = await scrape();
  for (const rule of rules) {
    // `metric{label="v", label=~"a|b"} == 1`: the shape both rules have.
    const match = /^(\w+)\{(.*)\} == 1$/.exec(rule.expr.trim());
    assert.ok(match, `${rule.alert}: ${rule.expr}`);
    const matchers = [...match![2]!.matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label: label!, test: op === '=~' ? new RegExp(`^(?:${value})$`) : { test: (v: string) => v === value } }));
    const selected = series.filter((s) => s.name === match![1] && s.value === 1 && matchers.every((m) => m.test.test(s.labels[m.label] ?? '')));
    assert.equal(selected.map((s) => s.labels.streamer), ['broken'], rule.alert);
  }
});

ksmSuite('a status change reaches /metrics (kube-state-metrics watches)', async () => {
  await streamer('broken', true, [
    { type: 'StreamerReady', status: 'True', reason: 'StatefulSetReady' },
    { type: 'StreamerConfigSaved', status: 'False', reason: 'ConfigRejected' },
  ]);
  const series = await waitFor('the new status on /metrics', async () => {
    const found = await scrape();
    return find(found, 'kube_streamer_status_ready', { streamer: 'broken' })[0]?.value === 1 ? found : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(find(series, 'kube_streamer_status_condition', { streamer: 'broken' }).map((s) => `${s.labels.type}=${s.labels.status}/${s.labels.reason}`).sort(), ['StreamerConfigSaved=False/ConfigRejected', 'StreamerReady=True/StatefulSetReady']);
});

ksmSuite.run();
