// Scale-out end to end on real Knative Eventing (test/sandbox/real-knative.ts, a sealed cluster):
// three replicas of the ksvc stand-in behind the tests' delivery proxy, which forwards every
// delivery of the real Broker and Triggers twice, each after a random delay, so the replicas see
// every event duplicated and out of order; the media-server double runs as the streamer Pod and
// is read through its state file (test/sandbox/pod-media.ts). Watches on the
// Streamer, its Pod and its Secret record every version the API server stored, so the tests
// see each intermediate state, not only the end: a condition's lastTransitionTime moves once
// per real transition, the Pod is replaced only by a restart edit, the media server ends with
// the last edit, and the generated password is written once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openWatch, type Watch } from '../../bench/watch.ts';
import type { KubeObject } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import type { Condition } from '../../lib/schema/condition.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND } from '../../lib/schema/streamer.ts';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { useRealSandbox } from './sandbox.ts';

const REPLICAS = 3;
const { cluster, sandbox } = await useRealSandbox({ replicas: REPLICAS, chaos: { maxDelayMs: 300 } });
const transport = await transportFromKubeconfig(cluster.kubeconfig);
const test = suite(`scale-out: ${REPLICAS} replicas per function, every event duplicated and shuffled`);

const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

/** Every stored version of the quickstart Streamer, its Pod's UIDs and its Secret's edit_auth values. */
type History = { streamers: Streamer[]; podUids: string[]; passwords: string[]; templates: string[]; watches: Watch[] };

async function watchQuickstart(ns: string): Promise<History> {
  const history: History = { streamers: [], podUids: [], passwords: [], templates: [], watches: [] };
  const addOnce = (list: string[], value: string | undefined) => {
    if (value && !list.includes(value)) list.push(value);
  };
  history.watches = await Promise.all([
    openWatch({ transport, apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace: ns, onEvent({ type, object }) {
      if (type !== 'DELETED' && object.metadata.name === 'simple') history.streamers.push(Streamer.parse({ ...object, apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND }));
    } }),
    openWatch({ transport, apiVersion: 'v1', kind: 'Pod', namespace: ns, onEvent({ object }) {
      if (object.metadata.name === 'simple-streamer-0') addOnce(history.podUids, object.metadata.uid);
    } }),
    openWatch({ transport, apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: ns, onEvent({ object }) {
      // Each distinct pod template the StatefulSet was given, in order.
      const template = JSON.stringify((object.spec as { template?: unknown } | undefined)?.template);
      if (object.metadata.name === 'simple-streamer' && history.templates.at(-1) !== template) history.templates.push(template);
    } }),
    openWatch({ transport, apiVersion: 'v1', kind: 'Secret', namespace: ns, onEvent({ object }) {
      const data = (object as KubeObject & { data?: Record<string, string> }).data;
      if (object.metadata.name === 'simple-license-storage') addOnce(history.passwords, data?.edit_auth);
    } }),
  ]);
  return history;
}

async function closeHistory(history: History): Promise<void> {
  await Promise.all(history.watches.map((w) => w.close()));
  for (const watch of history.watches) assert.is(watch.error, undefined, watch.error?.message);
}

/** The condition's versions as stored, consecutive repeats (same status, reason, lastTransitionTime) folded. */
function timeline(history: History, type: string, from = 0): Condition[] {
  const out: Condition[] = [];
  for (const streamer of history.streamers.slice(from)) {
    const condition = streamer.status?.conditions?.find((c) => c.type === type);
    const last = out.at(-1);
    if (!condition) continue;
    if (last && last.status === condition.status && last.reason === condition.reason && last.lastTransitionTime === condition.lastTransitionTime) continue;
    out.push(condition);
  }
  return out;
}

/** Statuses with consecutive repeats folded: True, False, True is two transitions. */
const statuses = (conditions: Condition[]) => conditions.map((c) => c.status).filter((status, i, all) => i === 0 || all[i - 1] !== status);

/**
 * lastTransitionTime moves only when the status changes (never for a new reason, message or
 * generation), and never backwards. (It has whole seconds, so two transitions within one second
 * may show the same time.)
 */
function assertTransitionTimes(conditions: Condition[], type: string) {
  for (let i = 1; i < conditions.length; i++) {
    const [a, b] = [conditions[i - 1] as Condition, conditions[i] as Condition];
    const step = `${type}: ${a.status}/${a.reason}@${a.lastTransitionTime} → ${b.status}/${b.reason}@${b.lastTransitionTime}`;
    if (a.status === b.status) assert.is(b.lastTransitionTime, a.lastTransitionTime, step);
    else assert.ok(b.lastTransitionTime >= a.lastTransitionTime, step);
  }
}

/** Events recorded about the Streamer with `action`, in time order. */
async function eventReasons(ns: string, uid: string, action: string): Promise<string[]> {
  const events = await cluster.kubectl.json<{ items: { action: string; reason: string; eventTime?: string; regarding?: { uid?: string } }[] }>(['get', 'events.events.k8s.io', '-n', ns]);
  return events.items
    .filter((e) => e.regarding?.uid === uid && e.action === action)
    .sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)))
    .map((e) => e.reason);
}

/** One Event per change of status or reason (what setCondition calls a transition). */
function transitionReasons(conditions: Condition[]): string[] {
  return conditions.filter((c, i) => i === 0 || conditions[i - 1]?.status !== c.status || conditions[i - 1]?.reason !== c.reason).map((c) => c.reason);
}

/**
 * Waits until the delivery proxy has had nothing in flight and recorded no new delivery for
 * 1.5 s (its duplicates are delayed by up to maxDelayMs); fails the test if it never settles.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const count = sandbox.broker.deliveries.length;
    await sandbox.broker.idle(10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    if (sandbox.broker.deliveries.length === count) return;
  }
  assert.unreachable('events kept flowing for 45 s');
}

const readStreamer = async (ns: string) => Streamer.parse(await cluster.kubectl.json(['get', 'streamer', 'simple', '-n', ns]));
const condition = (streamer: Streamer, type: string) => streamer.status?.conditions?.find((c) => c.type === type);
const patchSpec = (ns: string, spec: unknown) => cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);

async function createQuickstart(prefix: string): Promise<{ ns: string; history: History }> {
  const ns = await namespace(prefix);
  const history = await watchQuickstart(ns);
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test']);
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await waitFor('both conditions True', async () => {
    const streamer = await readStreamer(ns);
    return condition(streamer, 'StreamerReady')?.status === 'True' && condition(streamer, 'StreamerConfigSaved')?.status === 'True' ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  await settle();
  return { ns, history };
}

/**
 * The media server double of the Pod holds exactly the config the stored Streamer renders. The
 * double writes its state file after it answers, so the file is given a moment to catch up.
 */
async function assertServerHoldsLastEdit(ns: string, streamer: Streamer): Promise<string> {
  const double = await sandbox.media.get(ns, 'simple-streamer-0');
  assert.ok(double, 'a media server double serves the Pod');
  const expected = renderMediaServerConfig(streamer);
  await waitFor('the double\'s state file', async () => (double!.config === expected ? true : undefined), { timeoutMs: 2_000, intervalMs: 50 }).catch(() => undefined);
  assert.is(double!.config, expected);
  const saved = condition(streamer, 'StreamerConfigSaved');
  assert.equal([saved?.status, saved?.observedGeneration], ['True', streamer.metadata.generation]);
  return double!.config;
}

test('a create: one password, each condition moves straight to True, one Event per transition', async () => {
  const { ns, history } = await createQuickstart('e2e-so-create');
  await closeHistory(history);
  const streamer = await readStreamer(ns);
  assert.is(history.passwords.length, 1, 'edit_auth was written once');
  assert.is(history.podUids.length, 1);
  for (const [type, action, first] of [['StreamerReady', 'Probe', 'False'], ['StreamerConfigSaved', 'Push', 'Unknown']] as const) {
    const seen = timeline(history, type);
    assertTransitionTimes(seen, type);
    const path = statuses(seen);
    assert.ok(JSON.stringify(path) === '["True"]' || JSON.stringify(path) === `["${first}","True"]`, `${type} went ${path.join(' → ')}`);
    assert.equal(await eventReasons(ns, streamer.metadata.uid, action), transitionReasons(seen), `${type} Events`);
  }
  await assertServerHoldsLastEdit(ns, streamer);
});

test('a burst of hot edits: the server ends with the last one, no condition moves, the Pod stays', async () => {
  const { ns, history } = await createQuickstart('e2e-so-hot');
  const from = history.streamers.length;
  const created = await readStreamer(ns);
  for (let i = 1; i <= 6; i++) {
    await patchSpec(ns, { configExtra: { 'burst.conf': `stream burst${i} {\n  input fake://burst${i};\n}\n` } });
    await new Promise((r) => setTimeout(r, 20 * i));
  }
  await waitFor('the last edit saved', async () => {
    const streamer = await readStreamer(ns);
    const saved = condition(streamer, 'StreamerConfigSaved');
    return saved?.status === 'True' && saved.observedGeneration === streamer.metadata.generation ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  await settle();
  await closeHistory(history);
  const streamer = await readStreamer(ns);
  assert.match(renderMediaServerConfig(streamer), /stream burst6/);
  await assertServerHoldsLastEdit(ns, streamer);
  for (const type of ['StreamerReady', 'StreamerConfigSaved']) {
    const seen = timeline(history, type, from);
    assert.equal(statuses(seen), ['True'], `${type} went ${statuses(seen).join(' → ')}`);
    assert.is(condition(streamer, type)?.lastTransitionTime, condition(created, type)?.lastTransitionTime, `${type} lastTransitionTime`);
  }
  assert.is(history.podUids.length, 1, 'hot edits never replace the Pod');
  assert.is(history.templates.length, 1, 'nor touch the pod template');
  assert.is(history.passwords.length, 1);
  // observedGeneration never goes back: a replica holding an older generation wrote nothing.
  for (const type of ['StreamerReady', 'StreamerConfigSaved']) {
    const generations = history.streamers.slice(from).map((s) => condition(s, type)?.observedGeneration ?? 0);
    assert.equal(generations, [...generations].sort((a, b) => a - b), `${type} observedGeneration is monotonic`);
  }
});

test('a restart edit among hot edits: the Pod is replaced exactly once; transitions are real ones', async () => {
  const { ns, history } = await createQuickstart('e2e-so-restart');
  const from = history.streamers.length;
  await patchSpec(ns, { configExtra: { 'a.conf': 'stream a {\n  input fake://a;\n}\n' } });
  await patchSpec(ns, { env: [{ name: 'RESTART_MARK', value: '1' }] });
  await patchSpec(ns, { configExtra: { 'a.conf': 'stream a2 {\n  input fake://a2;\n}\n' } });
  await waitFor('the new Pod saved the last edit', async () => {
    const streamer = await readStreamer(ns);
    const saved = condition(streamer, 'StreamerConfigSaved');
    const ready = condition(streamer, 'StreamerReady');
    return saved?.status === 'True' && saved.observedGeneration === streamer.metadata.generation && ready?.status === 'True' && history.podUids.length > 1 ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 300 });
  await settle();
  await closeHistory(history);
  const streamer = await readStreamer(ns);
  assert.is(history.templates.length, 2, 'one new pod template, never an older one again');
  assert.is(history.podUids.length, 2, `Pod UIDs: ${history.podUids.join(', ')}`);
  assert.match(await assertServerHoldsLastEdit(ns, streamer), /stream a2/);
  for (const type of ['StreamerReady', 'StreamerConfigSaved']) {
    const seen = timeline(history, type, from);
    assertTransitionTimes(seen, type);
    // One replacement: at most one dip (True → not True → True), never a flap back and forth.
    const path = statuses(seen);
    assert.ok(path.length <= 3 && path[0] === 'True' && path.at(-1) === 'True', `${type} went ${path.join(' → ')}`);
  }
  assert.is(history.passwords.length, 1, 'the restart kept the password');
});

test.run();
