// The routing tests' filter is Knative's own (test/knative/trigger-filter.ts): what it answers
// for the filter shapes knative/ uses, and that its webhook validation does refuse.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Manifest } from './manifests.ts';
import { eventAttributes, startTriggerRouter, subscriberPath } from './trigger-filter.ts';

const trigger = (name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name, namespace: 'ns' },
  spec: { broker: 'b', subscriber: { uri: `http://svc.ns.svc.cluster.local/${name}` }, ...spec },
});
const event = (attributes: Record<string, string>) => ({ specversion: '1.0', id: '1', source: 's', ...attributes });

const filter = suite('Knative Trigger filter');

filter('spec.filters: all/any/exact/prefix as the broker evaluates them; extensions must be present', async () => {
  const router = await startTriggerRouter([
    trigger('pods', { filters: [{ all: [{ exact: { kind: 'Pod' } }, { any: [{ exact: { type: 'a' } }, { exact: { type: 'b' } }] }] }] }),
    trigger('prefixed', { filters: [{ prefix: { name: 'cam' } }] }),
    trigger('not-a', { filters: [{ not: { exact: { type: 'a' } } }] }),
  ]);
  try {
    assert.equal(await router.route([
      event({ type: 'a', kind: 'Pod' }),
      event({ type: 'c', kind: 'Pod', name: 'cam1' }),
      event({ type: 'b' }),
    ]), [['pods'], ['prefixed', 'not-a'], ['not-a']]);
  } finally {
    router.stop();
  }
});

filter('legacy spec.filter.attributes, and no filter at all (everything passes)', async () => {
  const router = await startTriggerRouter([trigger('legacy', { filter: { attributes: { type: 'a' } } }), trigger('all', {})]);
  try {
    assert.equal(await router.route([event({ type: 'a' }), event({ type: 'b' })]), [['legacy', 'all'], ['all']]);
  } finally {
    router.stop();
  }
});

filter('the webhook\'s validation refuses two dialects in one filter item and names the field', async () => {
  const router = await startTriggerRouter([trigger('two', { filters: [{ exact: { type: 'a' }, prefix: { type: 'b' } }] }), trigger('fine', { filters: [{ exact: { type: 'a' } }] })]);
  try {
    const invalid = await router.invalid();
    assert.equal(Object.keys(invalid), ['two']);
    assert.match(invalid.two ?? '', /filters/);
  } finally {
    router.stop();
  }
});

filter('attributes of a CloudEvent in JSON form, and a subscriber\'s path', () => {
  assert.equal(eventAttributes({ specversion: '1.0', type: 't', data: { x: 1 }, time: new Date(0), Kind: 'Pod' }), { specversion: '1.0', type: 't', time: '1970-01-01T00:00:00.000Z', kind: 'Pod' });
  assert.is(subscriberPath(trigger('x', {})), '/x');
});

filter.run();
