// Bad input end to end, as a user types it: kubectl against the real API server, real Knative
// Eventing (the ApiServerSources, Broker and Triggers of knative/, Knative's own retries and
// dead-letter sink) and the functions in two replicas; deliveries are read from the tests'
// delivery proxy in front of them. Every Streamer
// either converges or says on its status what is wrong, and fixing it converges; no event is
// dead-lettered and a healthy create raises no Warning.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest, type StreamerManifest } from '../fixtures/streamers.ts';
import { useRealSandbox } from './sandbox.ts';

const { cluster, sandbox } = await useRealSandbox();
const test = suite('bad input end to end');
const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

type Condition = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
type StreamerView = { metadata: { generation: number }; status?: { conditions?: Condition[] } };

const withSpec = (spec: Record<string, unknown>): StreamerManifest =>
  ({ ...quickstartManifest, spec: { ...quickstartManifest.spec, ...spec } as StreamerManifest['spec'] });

async function create(prefix: string, manifest: StreamerManifest) {
  const ns = await namespace(prefix);
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test']);
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(manifest) });
  return ns;
}

async function condition(ns: string, type: string, ok: (c: Condition, s: StreamerView) => boolean, timeoutMs = 60_000) {
  let last: unknown;
  try {
    return await waitFor(`${type} in ${ns}`, async () => {
      const streamer = await cluster.kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
      const found = streamer.status?.conditions?.find((c) => c.type === type);
      last = { generation: streamer.metadata.generation, condition: found };
      return found && ok(found, streamer) ? found : undefined;
    }, { timeoutMs, intervalMs: 250 });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

const current = (c: Condition, s: StreamerView) => c.status === 'True' && c.observedGeneration === s.metadata.generation;

async function converged(ns: string) {
  await condition(ns, 'ChildrenReady', current);
  await condition(ns, 'StreamerReady', current);
  await condition(ns, 'StreamerConfigSaved', current);
}

/** Waits until no delivery has been in flight for a second. */
async function settle() {
  for (let i = 0; i < 30; i++) {
    const count = sandbox.broker.deliveries.length;
    await sandbox.broker.idle();
    await new Promise((r) => setTimeout(r, 1_000));
    if (sandbox.broker.deliveries.length === count) return;
  }
  throw new Error('events kept flowing for 30 s');
}

async function streamerEvents(ns: string) {
  const list = await cluster.kubectl.json<{ items: { type: string; reason: string; note?: string; regarding?: { kind?: string; name?: string } }[] }>(
    ['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'],
  );
  return list.items.filter((e) => e.regarding?.kind === 'Streamer' && e.regarding.name === 'simple');
}

const deadLetters = () => sandbox.broker.deliveries.filter((d) => d.deadLettered);

test('a healthy create records no Warning Event on the Streamer', async () => {
  const ns = await create('e2e-bad-healthy', quickstartManifest);
  await converged(ns);
  await settle();
  const events = await streamerEvents(ns);
  assert.ok(events.length > 0, 'progress is recorded (Normal)');
  assert.equal(events.filter((e) => e.type === 'Warning').map((e) => `${e.reason}: ${e.note}`), []);
});

test('a child the API server refuses: ChildrenReady False with its message, answered 2xx, one Warning; fixing it converges', async () => {
  const ns = await create('e2e-bad-refused', withSpec({ selectorLabels: { app: 'not a label value!' } }));
  const refused = await condition(ns, 'ChildrenReady', (c) => c.status === 'False');
  assert.is(refused.reason, 'ApplyRefused');
  assert.match(refused.message, /the API server refused (Service simple-headless|StatefulSet simple-streamer) \(422 Invalid\): .*not a label value!/);
  await settle();
  const calls = sandbox.broker.deliveries.filter((d) => d.trigger === 'reconcile-children' && d.name === 'simple' && d.kind === 'Streamer');
  assert.ok(calls.length > 0);
  assert.ok(calls.every((d) => d.status === 204 && d.attempts === 1), JSON.stringify(calls));
  const warnings = (await streamerEvents(ns)).filter((e) => e.type === 'Warning' && e.reason === 'ApplyRefused');
  assert.is(warnings.length, 1, JSON.stringify(warnings));
  // A resync tries again, and records nothing new.
  await sandbox.tick();
  await settle();
  assert.is((await streamerEvents(ns)).filter((e) => e.type === 'Warning' && e.reason === 'ApplyRefused').length, 1);

  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(withSpec({ selectorLabels: { app: 'fixed' } })) });
  await converged(ns);
  assert.equal(deadLetters(), []);
});

test('spec.env overriding FLUSSONIC_HOSTNAME converges (the user\'s value replaces the operator\'s)', async () => {
  const ns = await create('e2e-bad-env', withSpec({ env: [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }] }));
  await converged(ns);
  const env = JSON.parse(await cluster.kubectl.ok(['get', 'pod', 'simple-streamer-0', '-n', ns, '-o', 'jsonpath={.spec.containers[0].env}'])) as { name: string; value?: string }[];
  assert.equal(env.filter((e) => e.name === 'FLUSSONIC_HOSTNAME'), [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }]);
  assert.equal(deadLetters(), []);
});

test('what the CRD refuses never reaches the functions, and the message names the field', async () => {
  const ns = await namespace('e2e-bad-apply');
  const before = sandbox.broker.deliveries.length;
  const result = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify(withSpec({ hostPort: 81, volumes: [{ name: 'Storage_Bad', mountPath: '/storage', emptyDir: {} }] })),
  });
  assert.is.not(result.code, 0);
  assert.match(result.stderr, /spec\.hostPort: Invalid value: .*must not be 81/);
  assert.match(result.stderr, /spec\.volumes\[0\]\.name: Invalid value: .*must be a valid Pod volume name/);
  await settle();
  assert.not.ok(sandbox.broker.deliveries.slice(before).some((d) => d.name === 'simple' && d.kind === 'Streamer'));
});

test('no event was dead-lettered in this file', () => {
  assert.equal(deadLetters(), []);
});

test.run();
