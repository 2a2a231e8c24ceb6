// Knative's Trigger filter semantics (pkg/eventfilter, filter_handler.go filterEvent), case by
// case, and loading the Triggers from knative/.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  eventAttributes,
  loadTriggers,
  matchesTrigger,
  TriggerFilterError,
  type SubscriptionsApiFilter,
} from './trigger-filter.ts';

const streamerUpdate = {
  specversion: '1.0',
  id: 'a1',
  source: 'https://127.0.0.1:6443',
  type: 'dev.knative.apiserver.resource.update',
  subject: '/apis/media.flussonic.com/v1alpha1/namespaces/ns1/streamers/cam1',
  datacontenttype: 'application/json; charset=utf-8',
  kind: 'Streamer',
  name: 'cam1',
  namespace: 'ns1',
  apiversion: 'media.flussonic.com/v1alpha1',
};

const withFilters = (...filters: SubscriptionsApiFilter[]) => ({ spec: { filters } });
const passes = (filters: SubscriptionsApiFilter[], attributes: Record<string, string> = streamerUpdate) =>
  matchesTrigger(withFilters(...filters), attributes);

function throwsCode(fn: () => unknown, code: TriggerFilterError['code']) {
  try {
    fn();
  } catch (error) {
    assert.instance(error, TriggerFilterError);
    assert.is((error as TriggerFilterError).code, code);
    return;
  }
  assert.unreachable(`expected a TriggerFilterError ${code}`);
}

// ---

const dialects = suite('filters dialects');

dialects('exact matches case-sensitively on attributes and extensions', () => {
  assert.ok(passes([{ exact: { type: 'dev.knative.apiserver.resource.update' } }]));
  assert.ok(passes([{ exact: { kind: 'Streamer' } }]));
  assert.not.ok(passes([{ exact: { kind: 'streamer' } }]));
  assert.not.ok(passes([{ exact: { kind: 'Stream' } }]));
});

dialects('exact with several keys needs all of them', () => {
  assert.ok(passes([{ exact: { kind: 'Streamer', name: 'cam1' } }]));
  assert.not.ok(passes([{ exact: { kind: 'Streamer', name: 'cam2' } }]));
});

dialects('a missing extension fails every dialect; a missing context attribute is ""', () => {
  assert.not.ok(passes([{ exact: { color: 'red' } }]));
  assert.not.ok(passes([{ prefix: { color: 'r' } }]));
  assert.not.ok(passes([{ suffix: { color: 'd' } }]));
  // dataschema is a context attribute: it "exists" as "" and so fails only on its value.
  assert.not.ok(passes([{ exact: { dataschema: 'x' } }]));
  assert.ok(passes([{ not: { exact: { dataschema: 'x' } } }]));
  // but a missing extension under not: the inner fails, so not passes.
  assert.ok(passes([{ not: { exact: { color: 'red' } } }]));
});

dialects('prefix and suffix', () => {
  assert.ok(passes([{ prefix: { type: 'dev.knative.apiserver.' } }]));
  assert.not.ok(passes([{ prefix: { type: 'dev.knative.apiserver.ref.' } }]));
  assert.ok(passes([{ suffix: { type: '.update' } }]));
  assert.not.ok(passes([{ suffix: { type: '.add' } }]));
  assert.ok(passes([{ suffix: { subject: '/streamers/cam1' } }]));
});

dialects('datamediatype is the content type without parameters', () => {
  assert.ok(passes([{ exact: { datamediatype: 'application/json' } }]));
  assert.ok(passes([{ exact: { datacontenttype: 'application/json; charset=utf-8' } }]));
});

dialects('all, any and not', () => {
  assert.ok(passes([{ all: [{ exact: { kind: 'Streamer' } }, { suffix: { type: '.update' } }] }]));
  assert.not.ok(passes([{ all: [{ exact: { kind: 'Streamer' } }, { suffix: { type: '.add' } }] }]));
  assert.ok(passes([{ any: [{ exact: { kind: 'Pod' } }, { exact: { kind: 'Streamer' } }] }]));
  assert.not.ok(passes([{ any: [{ exact: { kind: 'Pod' } }, { exact: { kind: 'Secret' } }] }]));
  assert.not.ok(passes([{ not: { exact: { kind: 'Streamer' } } }]));
  assert.ok(passes([{ not: { any: [{ exact: { kind: 'Pod' } }, { exact: { kind: 'Secret' } }] } }]));
});

dialects('list items are ANDed', () => {
  assert.ok(passes([{ exact: { kind: 'Streamer' } }, { prefix: { type: 'dev.knative.apiserver.resource.' } }]));
  assert.not.ok(passes([{ exact: { kind: 'Streamer' } }, { prefix: { type: 'dev.knative.apiserver.ref.' } }]));
});

dialects('an item with no dialect is skipped, like Knative', () => {
  assert.ok(passes([{}]));
  assert.ok(passes([{ exact: {} }]));
  assert.not.ok(passes([{}, { exact: { kind: 'Pod' } }]));
  // not of nothing is "no filter": it lets the event through.
  assert.ok(passes([{ not: {} }]));
  // any whose only item is skipped is "no filter" too.
  assert.ok(passes([{ any: [{}] }]));
});

dialects('any keeps the last result when nothing passes (Knative anyFilter)', () => {
  // [skipped-as-none, fail] → fail; [fail, none] → none, which lets the event through.
  assert.not.ok(passes([{ any: [{ not: {} }, { exact: { kind: 'Pod' } }] }]));
  assert.ok(passes([{ any: [{ exact: { kind: 'Pod' } }, { not: {} }] }]));
});

dialects('several dialects in one item are rejected, as the webhook does', () => {
  throwsCode(() => passes([{ exact: { kind: 'Streamer' }, suffix: { type: '.update' } }]), 'TRIGGER_FILTER_INVALID');
  // also when nested below an item that would short-circuit
  throwsCode(() => passes([{ any: [{ exact: { kind: 'Streamer' } }, { exact: { kind: 'Pod' }, prefix: { type: 'x' } }] }]), 'TRIGGER_FILTER_INVALID');
});

dialects('bad attribute names and empty values are rejected', () => {
  throwsCode(() => passes([{ exact: { Kind: 'Streamer' } }]), 'TRIGGER_FILTER_INVALID');
  throwsCode(() => passes([{ exact: { 'api-version': 'v1' } }]), 'TRIGGER_FILTER_INVALID');
  throwsCode(() => passes([{ prefix: { type: '' } }]), 'TRIGGER_FILTER_INVALID');
});

dialects('cesql is unsupported', () => {
  throwsCode(() => passes([{ cesql: "kind = 'Streamer'" }]), 'TRIGGER_FILTER_UNSUPPORTED');
});

dialects.run();

// ---

const legacy = suite('filter.attributes');

legacy('exact equality on every key', () => {
  assert.ok(matchesTrigger({ spec: { filter: { attributes: { type: streamerUpdate.type, kind: 'Streamer' } } } }, streamerUpdate));
  assert.not.ok(matchesTrigger({ spec: { filter: { attributes: { type: streamerUpdate.type, kind: 'Pod' } } } }, streamerUpdate));
});

legacy('"" means present and non-empty', () => {
  assert.ok(matchesTrigger({ spec: { filter: { attributes: { kind: '' } } } }, streamerUpdate));
  assert.not.ok(matchesTrigger({ spec: { filter: { attributes: { color: '' } } } }, streamerUpdate));
  assert.not.ok(matchesTrigger({ spec: { filter: { attributes: { dataschema: '' } } } }, streamerUpdate));
});

legacy('filters, when non-empty, override filter', () => {
  const both = { spec: { filter: { attributes: { kind: 'Pod' } }, filters: [{ exact: { kind: 'Streamer' } }] } };
  assert.ok(matchesTrigger(both, streamerUpdate));
  const emptyFilters = { spec: { filter: { attributes: { kind: 'Pod' } }, filters: [] } };
  assert.not.ok(matchesTrigger(emptyFilters, streamerUpdate));
});

legacy('no filter at all lets everything through', () => {
  assert.ok(matchesTrigger({ spec: {} }, streamerUpdate));
  assert.ok(matchesTrigger({ spec: { filter: {} } }, streamerUpdate));
});

legacy.run();

// ---

const attributes = suite('eventAttributes');

attributes('a cloudevents CloudEvent: every attribute and extension as strings, no data', () => {
  const event = new CloudEvent({
    type: 'dev.knative.apiserver.ref.update',
    source: 'https://127.0.0.1:6443',
    subject: '/apis/v1/namespaces/ns1/secrets/cam1-license-storage',
    kind: 'Secret',
    name: 'cam1-license-storage',
    namespace: 'ns1',
    apiversion: 'v1',
    data: { kind: 'Secret', name: 'cam1-license-storage' },
  });
  const result = eventAttributes(event as unknown as Record<string, unknown>);
  assert.is(result.type, 'dev.knative.apiserver.ref.update');
  assert.is(result.kind, 'Secret');
  assert.is(result.specversion, '1.0');
  assert.type(result.time, 'string');
  assert.not.ok('data' in result);
});

attributes('a structured JSON envelope', () => {
  const result = eventAttributes({ specversion: '1.0', id: '1', type: 't', source: 's', data_base64: 'eA==', knativearrivaltime: '2026-01-01T00:00:00Z' });
  assert.equal(result, { specversion: '1.0', id: '1', type: 't', source: 's', knativearrivaltime: '2026-01-01T00:00:00Z' });
});

attributes.run();

// ---

const loading = suite('loadTriggers');

loading('reads Trigger documents from nested YAML files, skipping kustomizations and other kinds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'triggers-'));
  try {
    await mkdir(join(dir, 'base'));
    await writeFile(join(dir, 'kustomization.yaml'), 'resources: [base]\n');
    await writeFile(join(dir, 'base', 'broker.yaml'), 'apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: b}\n');
    await writeFile(
      join(dir, 'base', 'triggers.yaml'),
      [
        'apiVersion: eventing.knative.dev/v1',
        'kind: Trigger',
        'metadata: {name: one, namespace: ns}',
        'spec:',
        '  broker: b',
        '  filters: [{exact: {kind: Streamer}}]',
        '  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: s}, uri: /one}',
        '---',
        'apiVersion: eventing.knative.dev/v1',
        'kind: Trigger',
        'metadata: {name: two}',
        'spec:',
        '  broker: b',
        '  subscriber: {uri: "http://two.ns.svc.cluster.local/path/x?y=1"}',
      ].join('\n'),
    );
    const triggers = await loadTriggers(dir);
    assert.equal(triggers.map((t) => [t.name, t.namespace, t.broker, t.path, t.file]), [
      ['one', 'ns', 'b', '/one', join('base', 'triggers.yaml')],
      ['two', undefined, 'b', '/path/x', join('base', 'triggers.yaml')],
    ]);
    assert.is(triggers[0]!.metadata.name, 'one');
    assert.ok(matchesTrigger(triggers[0]!, streamerUpdate));
    assert.not.ok(matchesTrigger(triggers[0]!, { ...streamerUpdate, kind: 'Pod' }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

loading('a malformed Trigger is an error naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'triggers-'));
  try {
    await writeFile(join(dir, 't.yaml'), 'apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec: {filters: {exact: {kind: X}}}\n');
    await loadTriggers(dir).then(
      () => assert.unreachable('should throw'),
      (error: unknown) => {
        assert.instance(error, TriggerFilterError);
        assert.match((error as Error).message, 't.yaml');
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

loading('the repository knative/ folder holds one Trigger per function, each on its own path', async () => {
  const triggers = await loadTriggers();
  assert.equal(triggers.map((t) => t.path).sort(), ['/probe-status', '/push-config', '/reconcile-children']);
  for (const trigger of triggers) assert.is(trigger.broker, 'streamer-operator');
});

loading.run();
