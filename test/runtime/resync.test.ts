// A resync tick as Knative delivers it (a PingSource CloudEvent over functions-framework),
// against the real API server, kwok running the Pods and a media-server double on each Pod's
// IP: a settled cluster costs a few paginated lists and nothing else; a Streamer that differs
// gets the work, and only it; a tick past its deadline answers 503 with the rest left for the
// retry; ticks that overlap in one process do the work once.
import { Agent } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { definition as probeDefinition } from '../../functions/probe-status/definition.ts';
import { definition as pushDefinition } from '../../functions/push-config/definition.ts';
import { definition as childrenDefinition } from '../../functions/reconcile-children/definition.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { probeStatus } from '../../lib/probe-status/probe-status.ts';
import { pushConfig } from '../../lib/push-config/push-config.ts';
import { useCluster } from '../cluster/shared.ts';
import { pingEvent } from '../events/fixtures.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import { adminClient, createStreamer, patchSpec, readStreamer, secretValue, startStreamerPod } from '../status/streamers.ts';
import { serveDefinition, type ServedFunction } from './serve-definition.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('resync');
const NAMES = ['r1', 'r2', 'r3', 'r4', 'r5'];
// Two items a page: five Streamers take three pages of every kind.
const env = { ...process.env, RESYNC_PAGE_SIZE: '2' };
const doubles = new Map<string, MediaDouble>();
const media = new Agent();
let probe: ServedFunction;
let push: ServedFunction;
let children: ServedFunction;

/** The resync log line a tick produced. */
const resyncLine = (served: ServedFunction) => served.logs.filter((l) => l['outcome'] === 'resync').at(-1) ?? {};
const mediaRequests = () => [...doubles.values()].reduce((n, d) => n + d.received.length, 0);

const tick = suite('resync tick');

tick.before(async () => {
  for (const name of NAMES) {
    const streamer = await createStreamer(admin, { namespace, name });
    const pod = await startStreamerPod(admin, streamer);
    doubles.set(name, await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: await secretValue(admin, namespace, `${name}-license-storage`, 'edit_auth') }));
  }
  for (const name of NAMES) {
    await pushConfig({ kube: admin, streamer: await readStreamer(admin, namespace, name), media: { dispatcher: media } });
    await probeStatus({ kube: admin, streamer: await readStreamer(admin, namespace, name) });
  }
  probe = await serveDefinition(cluster, probeDefinition, env);
  push = await serveDefinition(cluster, pushDefinition, env);
  children = await serveDefinition(cluster, childrenDefinition, env);
});
tick.after(async () => {
  await Promise.all([probe, push, children].map((s) => s.close()));
  await Promise.all([...doubles.values()].map((d) => d.stop()));
  await media.close();
});

tick('settled: probe-status and push-config list in pages, write nothing, call no media server', async () => {
  // Let probe-status catch up with the Pods' readiness first (its own tick does it).
  await probe.post(pingEvent());
  const requests = mediaRequests();
  for (const [served, definition] of [[probe, probeDefinition], [push, pushDefinition]] as const) {
    const { status } = await served.post(pingEvent());
    assert.is(status, 204);
    const line = resyncLine(served);
    assert.is(line['differing'], 0, `${String(line['function'])}: ${JSON.stringify(line)}`);
    assert.is(line['writes'], 0);
    assert.is(line['reads'], line['lists'], 'reads are the lists, nothing per Streamer');
    // Streamers, then each child kind the check looks at: three pages of two each (four when the
    // last page comes back full with a continue token; other files' Streamers are gone).
    const kinds = 1 + (definition.resyncCheck?.kinds.length ?? 0);
    assert.ok(Number(line['lists']) >= 3 * kinds && Number(line['lists']) <= 4 * kinds, `lists: ${line['lists']} for ${kinds} kinds`);
    assert.ok(Number(line['streamers']) >= NAMES.length);
  }
  assert.is(mediaRequests(), requests);
});

tick('one Streamer edited while its event was lost: push-config works on that one only and saves it', async () => {
  const edited = await patchSpec(admin, await readStreamer(admin, namespace, 'r3'), { configExtra: { 'lost.conf': 'stream lost {\n  input fake://lost;\n}\n' } });
  const before = new Map([...doubles].map(([name, d]) => [name, d.received.length]));
  const { status } = await push.post(pingEvent());
  assert.is(status, 204);
  const line = resyncLine(push);
  assert.equal([line['differing'], line['ok'], line['failed']], [1, 1, 0]);
  assert.is(doubles.get('r3')!.config, renderMediaServerConfig(edited));
  for (const [name, double] of doubles) if (name !== 'r3') assert.is(double.received.length, before.get(name), `${name} was called`);
  // The next tick finds nothing left.
  await push.post(pingEvent());
  assert.is(resyncLine(push)['differing'], 0);
});

tick('reconcile-children: a deleted child is seen in the lists and recreated', async () => {
  await admin.get({ apiVersion: 'v1', kind: 'Service', namespace, name: 'r2-headless' });
  await cluster.kubectl.ok(['delete', 'service', 'r2-headless', '-n', namespace]);
  const { status } = await children.post(pingEvent());
  assert.is(status, 204);
  const line = resyncLine(children);
  assert.ok(Number(line['differing']) >= 1, JSON.stringify(line));
  assert.ok(await admin.get({ apiVersion: 'v1', kind: 'Service', namespace, name: 'r2-headless' }), 'the Service is back');
});

tick('a tick past its deadline starts no more work and answers 503; the retry finishes it', async () => {
  const late = await serveDefinition(cluster, pushDefinition, { ...env, RESYNC_DEADLINE_MS: '0' });
  try {
    await patchSpec(admin, await readStreamer(admin, namespace, 'r4'), { logLevel: 'debug' });
    const { status } = await late.post(pingEvent());
    assert.is(status, 503, 'the Broker redelivers');
    assert.equal([resyncLine(late)['differing'], resyncLine(late)['skipped']], [1, 1]);
    assert.not.match(doubles.get('r4')!.config, /loglevel debug;/);
    // The retry (here: a tick with time left) lists again and does what is still left.
    assert.is((await push.post(pingEvent())).status, 204);
    assert.is(resyncLine(push)['differing'], 1);
    assert.match(doubles.get('r4')!.config, /loglevel debug;/);
  } finally {
    await late.close();
  }
});

tick('two ticks at once in one process: one set of lists, one pass of work', async () => {
  await patchSpec(admin, await readStreamer(admin, namespace, 'r5'), { logLevel: 'warn' });
  const lines = push.logs.filter((l) => l['outcome'] === 'resync').length;
  const puts = doubles.get('r5')!.received.filter((r) => r.method === 'PUT').length;
  const [a, b] = await Promise.all([push.post(pingEvent()), push.post(pingEvent())]);
  assert.equal([a.status, b.status], [204, 204]);
  assert.is(push.logs.filter((l) => l['outcome'] === 'resync').length, lines + 1, 'the second tick joined the first');
  assert.is(doubles.get('r5')!.received.filter((r) => r.method === 'PUT').length, puts + 1, 'saved once');
});

tick.run();
