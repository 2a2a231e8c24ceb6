// On real Knative Eventing: when the event sources' adapters have rolled out (Knative rolls them
// on every namespace change, and no adapter watches in between), the functions resync by
// themselves (lib/events/source-rollout.ts, the source-adapters ApiServerSource), so what the gap
// lost converges in seconds, not at the next PingSource tick.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../cluster/index.ts';
import { waitFor } from '../cluster/wait.ts';
import { useRealSandbox } from '../e2e/sandbox.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { OPERATOR_NAMESPACE, waitForKnativeReady } from '../sandbox/real-knative.ts';

const { cluster, sandbox } = await useRealSandbox({ replicas: 2 });
const kubectl = cluster.kubectl;
const ADAPTERS = ['streamers', 'streamer-children'];

type Line = { outcome?: string; object?: string; eventType?: string; function?: string; time?: string };
async function functionLines(): Promise<Line[]> {
  const texts = await Promise.all(sandbox.functionLogs().map((f) => readFile(f, 'utf8').catch(() => '')));
  return texts.join('\n').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

async function streamerIn(namespace: string): Promise<void> {
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', namespace, '--from-literal=license_key=rollout']);
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ ...quickstartManifest, metadata: { ...quickstartManifest.metadata, namespace } }) });
}

const ready = (namespace: string, timeoutMs: number) => waitFor(`StreamerReady in ${namespace}`, async () => {
  const status = await kubectl(['get', 'streamer', 'simple', '-n', namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="StreamerReady")].status}']);
  return status.stdout.trim() === 'True' ? true : undefined;
}, { timeoutMs, intervalMs: 500 });

test('a Streamer created while the Streamer and children adapters are gone converges once they are back, through their rollout, with no resync tick', async () => {
  const ns = await cluster.createNamespace('rollout'); // the adapters watch it
  // No tick may repair it instead: the PingSource goes for this test.
  await kubectl.ok(['delete', 'pingsources.sources.knative.dev', '--all', '-n', OPERATOR_NAMESPACE, '--wait=true']);
  await kubectl.ok(['delete', 'apiserversources.sources.knative.dev', ...ADAPTERS, '-n', OPERATOR_NAMESPACE, '--wait=true', '--timeout=60s']);
  await waitFor('the two adapters stopped', async () =>
    (cluster.sealed!.kubelet.running().some((key) => ADAPTERS.some((a) => key.startsWith(`${OPERATOR_NAMESPACE}/apiserversource-${a}-`))) ? undefined : true), { timeoutMs: 60_000, intervalMs: 250 });
  // The namespace just made rolled the adapters, and that rollout schedules a resync of its own
  // (RESYNC_AFTER_ROLLOUT_MS, 5 s): let it pass, so that only the coming rollout can repair.
  await waitFor('no resync for 8 s', async () => {
    const last = Math.max(0, ...(await functionLines()).filter((l) => l.outcome === 'resync' || l.object?.startsWith('Deployment')).map((l) => Date.parse(l.time ?? '')));
    return Date.now() - last > 8_000 ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1_000 });
  const before = Date.now();
  await streamerIn(ns);
  // Nobody watches: nothing happens to it.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  assert.is((await kubectl(['get', 'statefulset', 'simple-streamer', '-n', ns])).code, 1, 'no children while no adapter runs');

  // Back as a user brings them back; the PingSource too, so remove it again at once.
  const back = Date.now();
  await kubectl.ok(['apply', '-k', join(repoRoot, 'knative')], { timeoutMs: 60_000 });
  await kubectl.ok(['delete', 'pingsources.sources.knative.dev', '--all', '-n', OPERATOR_NAMESPACE, '--wait=true']);
  await ready(ns, 120_000).catch(async (error: Error) => {
    // What the functions made of the adapters' events, and where the adapters are.
    const seen = (await functionLines()).filter((l) => Date.parse(l.time ?? '') >= before && (l.object?.startsWith('Deployment') || l.outcome === 'resync' || l.object?.includes(ns)));
    const deployments = await kubectl(['get', 'deployments', '-n', OPERATOR_NAMESPACE, '-o', 'wide']);
    throw new Error(`${error.message}\n${seen.map((l) => JSON.stringify(l)).join('\n')}\n${deployments.stdout}`);
  });
  const tookSeconds = (Date.now() - back) / 1000;

  const lines = await functionLines();
  const after = (l: Line) => Date.parse(l.time ?? '') >= before;
  const rollouts = lines.filter((l) => after(l) && l.outcome === 'done' && l.object?.startsWith(`Deployment ${OPERATOR_NAMESPACE}/apiserversource-`));
  assert.ok(rollouts.length > 0, 'a function acted on an adapter Deployment event');
  assert.ok(lines.some((l) => after(l) && l.outcome === 'resync'), 'and resynced');
  process.stderr.write(`source-rollout: converged ${tookSeconds.toFixed(1)} s after the sources were applied again\n`);
  await waitForKnativeReady(cluster);
  // The quickstart binds hostPort 81 on the one node: one such Streamer at a time.
  await kubectl.ok(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
});

test('a Streamer applied right after `kubectl create namespace` converges without waiting for the adapters', async () => {
  const ns = `rollout-now-${Date.now().toString(36)}`;
  await kubectl.ok(['create', 'namespace', ns]);
  const created = Date.now();
  await streamerIn(ns);
  await ready(ns, 120_000);
  process.stderr.write(`source-rollout: a Streamer applied right after its namespace was Ready after ${((Date.now() - created) / 1000).toFixed(1)} s\n`);
});

test.after(async () => {
  await sandbox.stop();
});

test.run();
