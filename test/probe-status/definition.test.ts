// The probe-status function as Knative runs it: a CloudEvent about the StatefulSet over
// functions-framework → the shell reads the Streamer → probeStatus → 204 with a log line;
// a replay writes nothing.
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { lazyHandler } from '../../lib/runtime/register.ts';
import { definition, NAME } from '../../functions/probe-status/definition.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { binaryEvent, type Message } from '../events/fixtures.ts';
import { adminClient, createStreamer, readStreamer, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('probe-fn');
const logs: Record<string, unknown>[] = [];
ff.http('probe-status-under-test', lazyHandler(definition, { transport: () => transportFromKubeconfig(cluster.kubeconfig), log: (line) => logs.push(line) }));
const server = getTestServer('probe-status-under-test');
let base = '';

const setEvent = (): Message =>
  binaryEvent({ mode: 'reference', action: 'update', ref: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: 'cam-streamer' } });
async function post(message: Message): Promise<{ status: number; log: Record<string, unknown> | undefined }> {
  const response = await fetch(`${base}/`, { method: 'POST', headers: message.headers, body: String(message.body), signal: AbortSignal.timeout(20_000) });
  await response.text();
  return { status: response.status, log: logs.at(-1) };
}

const fn = suite(`${NAME} function`);

fn.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const streamer = await createStreamer(admin, { namespace, name: 'cam' });
  await startStreamerPod(admin, streamer);
  await waitFor('a ready replica', async () => {
    const set = await admin.get<KubeObject & { status?: { readyReplicas?: number } }>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: 'cam-streamer' });
    return (set?.status?.readyReplicas ?? 0) >= 1 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
});
fn.after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

fn('a StatefulSet event sets StreamerReady True and status.ready: 204, the outcome in the log', async () => {
  const { status, log } = await post(setEvent());
  assert.is(status, 204);
  assert.is(log?.['function'], NAME);
  assert.equal(log?.['result'], { streamerReady: 'True', reason: 'StatefulSetReady', reads: 1, writes: 2 });
  const stored = await readStreamer(admin, namespace, 'cam');
  assert.is(stored.status?.ready, true);
  assert.is(stored.status?.conditions?.find((c) => c.type === 'StreamerReady')?.status, 'True');
});

fn('the same event again: 204 and zero writes', async () => {
  const { status, log } = await post(setEvent());
  assert.is(status, 204);
  assert.equal(log?.['result'], { streamerReady: 'True', reason: 'StatefulSetReady', reads: 1, writes: 0 });
});

fn.run();
