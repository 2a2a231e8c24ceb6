// The probe-status function as Knative runs it: a CloudEvent about the StatefulSet over
// functions-framework → the shell reads the Streamer → probeStatus → 204 with a log line;
// a replay writes nothing (two reads: the StatefulSet and its Pod).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../lib/kube/client.ts';
import { definition, NAME } from '../../functions/probe-status/definition.ts';
import { useCluster } from '../cluster/shared.ts';
import { serveDefinition } from '../runtime/serve-definition.ts';
import { waitFor } from '../cluster/wait.ts';
import { binaryEvent, type Message } from '../events/fixtures.ts';
import { adminClient, createStreamer, readStreamer, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('probe-fn');
const served = await serveDefinition(cluster, definition);
const post = served.post;

const setEvent = (): Message =>
  binaryEvent({ mode: 'reference', action: 'update', ref: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: 'cam-streamer' } });

const fn = suite(`${NAME} function`);

fn.before(async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'cam' });
  await startStreamerPod(admin, streamer);
  await waitFor('a ready replica', async () => {
    const set = await admin.get<KubeObject & { status?: { readyReplicas?: number } }>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: 'cam-streamer' });
    return (set?.status?.readyReplicas ?? 0) >= 1 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
});
fn.after(async () => {
  await served.close();
});

fn('a StatefulSet event sets StreamerReady True and status.ready: 204, the outcome in the log', async () => {
  const { status, log } = await post(setEvent());
  assert.is(status, 204);
  assert.is(log?.['function'], NAME);
  // Reads: the StatefulSet and its Pod, at once (lib/probe-status/probe-status.ts).
  assert.equal(log?.['result'], { streamerReady: 'True', reason: 'StatefulSetReady', reads: 2, writes: 2 });
  const stored = await readStreamer(admin, namespace, 'cam');
  assert.is(stored.status?.ready, true);
  assert.is(stored.status?.conditions?.find((c) => c.type === 'StreamerReady')?.status, 'True');
});

fn('the same event again: 204 and zero writes', async () => {
  const { status, log } = await post(setEvent());
  assert.is(status, 204);
  assert.equal(log?.['result'], { streamerReady: 'True', reason: 'StatefulSetReady', reads: 2, writes: 0 });
});

fn.run();
