import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildConfigMap } from '../lib/k8s/config-map.ts';
import { buildPodMetadata } from '../lib/k8s/pod-metadata.ts';
import { buildStatefulSet } from '../lib/k8s/stateful-set.ts';
import type { Streamer, StreamerSpecInput } from '../lib/schema/streamer.ts';
import { classifySpecChange, HOT_FIELDS } from '../lib/spec-changes.ts';
import { everyFieldManifest, live, quickstartManifest, type StreamerManifest } from './fixtures/streamers.ts';

type Case = { name: string; from: StreamerManifest; change: Partial<StreamerSpecInput>; hot: string[]; restart: string[] };

const base = everyFieldManifest;
const hot = (name: string, change: Partial<StreamerSpecInput>, field: string, from = base): Case =>
  ({ name, from, change, hot: [field], restart: [] });
const restart = (name: string, change: Partial<StreamerSpecInput>, field: string, from = base): Case =>
  ({ name, from, change, hot: [], restart: [field] });

const cases: Case[] = [
  hot('configExtra edited', { configExtra: { 'auth.conf': 'auth_backend other { backend http://x/; }' } }, 'configExtra'),
  hot('configExtra added', { configExtra: { 'a.conf': 'rtmp 1935;' } }, 'configExtra', quickstartManifest),
  hot('logLevel changed', { logLevel: 'debug' }, 'logLevel'),
  hot('logLevel set', { logLevel: 'error' }, 'logLevel', quickstartManifest),
  hot('publicUrl changed', { publicUrl: 'https://cdn.example.com/' }, 'publicUrl'),
  hot('publicUrl removed', { publicUrl: undefined }, 'publicUrl'),
  hot('pod labels changed', { labels: { team: 'audio', tier: 'edge' } }, 'labels'),
  hot('pod annotations changed', { annotations: {} }, 'annotations'),
  restart('version', { version: 'v26.02-1' }, 'version'),
  restart('image', { image: 'mirror.example.com/flussonic' }, 'image'),
  restart('nodeName', { nodeName: 'other-node' }, 'nodeName'),
  restart('env', { env: [{ name: 'A', value: 'b' }] }, 'env'),
  restart('hostPort', { hostPort: 9090 }, 'hostPort'),
  restart('adminHostPort', { adminHostPort: 9091 }, 'adminHostPort'),
  restart('licenseKey', { licenseKey: { secretKeyRef: { name: 'other', key: 'k' } } }, 'licenseKey'),
  restart('editAuth', { editAuth: undefined }, 'editAuth'),
  restart('configExternalUrl', { configExternalUrl: 'http://other/' }, 'configExternalUrl'),
  restart('configExternalAuth', { configExternalAuth: { secretKeyRef: { name: 'other', key: 'k' } } }, 'configExternalAuth'),
  restart('clusterKey', { clusterKey: { secretKeyRef: { name: 'other', key: 'k' } } }, 'clusterKey'),
  restart('volumes', { volumes: [{ name: 'tmp', mountPath: '/tmp/x', emptyDir: {} }] }, 'volumes'),
  restart('nvidiaGpuCount', { nvidiaGpuCount: 2 }, 'nvidiaGpuCount'),
  restart('selectorLabels', { selectorLabels: { app: 'renamed' } }, 'selectorLabels'),
];

const changed = (from: StreamerManifest, change: Partial<StreamerSpecInput>) => live({ ...from, spec: { ...from.spec, ...change } });
const template = (streamer: Streamer) => JSON.stringify(buildStatefulSet(streamer).spec?.template);

// ---

const classify = suite('classifySpecChange');

for (const c of cases) {
  classify(`${c.name}: ${c.hot.length ? 'hot' : 'restart'}`, () => {
    const result = classifySpecChange(live(c.from).spec, changed(c.from, c.change).spec);
    assert.equal(result.hot, c.hot);
    assert.equal(result.restart, c.restart);
  });
}

classify('no change, or only key order, is no change', () => {
  const reordered = Object.fromEntries(Object.entries(base.spec).reverse()) as StreamerSpecInput;
  assert.equal(classifySpecChange(live(base).spec, changed(base, reordered).spec), { hot: [], restart: [], recreate: [] });
});

classify('an empty map or list equals an absent one', () => {
  assert.equal(classifySpecChange(live(quickstartManifest).spec, changed(quickstartManifest, { labels: {}, env: [] }).spec),
    { hot: [], restart: [], recreate: [] });
});

classify('a selectorLabels change also asks for the StatefulSet to be recreated', () => {
  assert.equal(classifySpecChange(live(base).spec, changed(base, { selectorLabels: { app: 'x' } }).spec).recreate, ['selectorLabels']);
});

classify('several changes are all reported', () => {
  const result = classifySpecChange(live(base).spec, changed(base, { publicUrl: 'https://x/', version: 'v2', labels: {} }).spec);
  assert.equal(result, { hot: ['publicUrl', 'labels'], restart: ['version'], recreate: [] });
});

classify.run();

// ---

const podTemplate = suite('pod template under spec changes');

for (const c of cases) {
  const expectation = c.hot.length ? 'stays byte-identical' : 'changes';
  podTemplate(`${c.name}: the StatefulSet pod template ${expectation}`, () => {
    const before = template(live(c.from));
    const after = template(changed(c.from, c.change));
    if (c.hot.length) assert.is(after, before);
    else assert.is.not(after, before);
  });
}

podTemplate('every hot field reaches the Pod some other way (ConfigMap or live Pod metadata)', () => {
  for (const field of HOT_FIELDS) {
    const c = cases.find((k) => k.hot[0] === field);
    assert.ok(c, field);
    const [a, b] = [live(c.from), changed(c.from, c.change)];
    const other = JSON.stringify([buildConfigMap(a), buildPodMetadata(a)]) !== JSON.stringify([buildConfigMap(b), buildPodMetadata(b)]);
    assert.ok(other, field);
  }
});

podTemplate.run();
