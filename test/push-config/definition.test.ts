// The push-config function as Knative runs it: a CloudEvent about the Streamer's Pod over
// functions-framework → the shell reads the Streamer → pushConfig → 204 with a log line,
// or 503 (redelivery) when the media server fails.
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { lazyHandler } from '../../lib/runtime/register.ts';
import { definition, NAME } from '../../functions/push-config/definition.ts';
import { useCluster } from '../cluster/shared.ts';
import { binaryEvent, type Message } from '../events/fixtures.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import { adminClient, createStreamer, patchSpec, readStreamer, secretValue, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('push-fn');
const logs: Record<string, unknown>[] = [];
ff.http('push-config-under-test', lazyHandler(definition, { transport: () => transportFromKubeconfig(cluster.kubeconfig), log: (line) => logs.push(line) }));
const server = getTestServer('push-config-under-test');
let base = '';
let double: MediaDouble;

const podEvent = (): Message =>
  binaryEvent({ mode: 'reference', action: 'update', ref: { apiVersion: 'v1', kind: 'Pod', namespace, name: 'cam-streamer-0' } });
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
  const pod = await startStreamerPod(admin, streamer);
  double = await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: await secretValue(admin, namespace, 'cam-license-storage', 'edit_auth') });
});
fn.after(async () => {
  await double.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

fn('a Pod event pushes the config: 204, StreamerConfigSaved True, the outcome in the log', async () => {
  const { status, log } = await post(podEvent());
  assert.is(status, 204);
  assert.is(double.config, renderMediaServerConfig(await readStreamer(admin, namespace, 'cam')));
  assert.is(log?.['function'], NAME);
  assert.equal(log?.['result'], { configSaved: 'True', reason: 'ConfigSaved', pushed: true, reads: 2, writes: 2 });
});

fn('the same event again: 204, zero writes, no media request', async () => {
  const requests = double.received.length;
  const { status, log } = await post(podEvent());
  assert.is(status, 204);
  assert.equal(log?.['result'], { configSaved: 'True', reason: 'ConfigSaved', reads: 2, writes: 0 });
  assert.is(double.received.length, requests);
});

fn('a media server failing with 500: 503 so the Broker redelivers', async () => {
  await patchSpec(admin, await readStreamer(admin, namespace, 'cam'), { logLevel: 'debug' });
  double.setFault({ kind: 'status', status: 500, path: '/config' });
  const { status, log } = await post(podEvent());
  assert.is(status, 503);
  assert.is(log?.['outcome'], 'transient');
  double.setFault(null);
  const retried = await post(podEvent());
  assert.is(retried.status, 204);
  assert.match(double.config, /loglevel debug;/);
});

fn.run();
