// The push-config function as Knative runs it: a CloudEvent about the Streamer's Pod over
// functions-framework → the shell reads the Streamer → pushConfig → 204 with a log line,
// or 503 (redelivery) when the media server fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { definition, NAME } from '../../functions/push-config/definition.ts';
import { useCluster } from '../cluster/shared.ts';
import { serveDefinition } from '../runtime/serve-definition.ts';
import { binaryEvent, type Message } from '../events/fixtures.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import { adminClient, createStreamer, patchSpec, readStreamer, secretValue, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('push-fn');
const served = await serveDefinition(cluster, definition);
const post = served.post;
let double: MediaDouble;

const podEvent = (): Message =>
  binaryEvent({ mode: 'reference', action: 'update', ref: { apiVersion: 'v1', kind: 'Pod', namespace, name: 'cam-streamer-0' } });

const fn = suite(`${NAME} function`);

fn.before(async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'cam' });
  const pod = await startStreamerPod(admin, streamer);
  double = await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: await secretValue(admin, namespace, 'cam-license-storage', 'edit_auth') });
});
fn.after(async () => {
  await double.stop();
  await served.close();
});

fn('a Pod event pushes the config: 204, StreamerConfigSaved True, the outcome in the log', async () => {
  const { status, log } = await post(podEvent());
  assert.is(status, 204);
  assert.is(double.config, renderMediaServerConfig(await readStreamer(admin, namespace, 'cam')));
  assert.is(log?.['function'], NAME);
  // Reads: the Pod, the edit_auth Secret, and the Streamer again after the save (the check that
  // no newer edit landed meanwhile); writes: the status and the transition Event.
  assert.equal(log?.['result'], { configSaved: 'True', reason: 'ConfigSaved', pushed: true, reads: 3, writes: 2 });
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
