import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPodMetadata } from '../../lib/k8s/pod-metadata.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import { everyField, everyFieldManifest, live, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const url = 'http://rich-streamer-0.rich-headless.media.svc.cluster.local:81/streamer/api/v3';

const podMetadata = suite('buildPodMetadata');

podMetadata('builds the live Pod metadata of a Streamer using every field', () => {
  assert.equal(plain(buildPodMetadata(everyField)), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'rich-streamer-0',
      namespace: 'media',
      labels: { team: 'video', ...richChildMeta('').labels, app: 'rich-streamer' },
      annotations: {
        'example.com/owner': 'video-team',
        'streamer.flussonic.com/api-endpoint': url,
        'streamer.flussonic.com/private-payload': url,
        'streamer.flussonic.com/public-payload': 'https://example.com/stream',
      },
    },
  });
});

podMetadata('targets the StatefulSet\'s Pod <name>-streamer-0 and is not owned by the Streamer', () => {
  const pod = buildPodMetadata(quickstart);
  assert.is(pod.metadata?.name, `${buildStatefulSet(quickstart).metadata?.name}-0`);
  assert.is(pod.metadata?.ownerReferences, undefined);
  assert.is(pod.spec, undefined);
});

podMetadata('sets public-payload only when publicUrl is set', () => {
  assert.is(buildPodMetadata(quickstart).metadata?.annotations?.['streamer.flussonic.com/public-payload'], undefined);
  const sneaky = live({
    ...everyFieldManifest,
    spec: { ...everyFieldManifest.spec, publicUrl: undefined, annotations: { 'streamer.flussonic.com/public-payload': 'x' } },
  });
  assert.is(buildPodMetadata(sneaky).metadata?.annotations?.['streamer.flussonic.com/public-payload'], undefined);
});

podMetadata('user labels and annotations cannot override the operator\'s', () => {
  const streamer = live({
    ...everyFieldManifest,
    spec: {
      ...everyFieldManifest.spec,
      labels: { app: 'hijack', 'app.kubernetes.io/instance': 'other' },
      annotations: { 'streamer.flussonic.com/api-endpoint': 'http://evil' },
    },
  });
  const { labels, annotations } = buildPodMetadata(streamer).metadata ?? {};
  assert.is(labels?.['app'], 'rich-streamer');
  assert.is(labels?.['app.kubernetes.io/instance'], 'rich');
  assert.is(annotations?.['streamer.flussonic.com/api-endpoint'], url);
});

podMetadata('keeps every template label, so the Pod stays selected by its StatefulSet', () => {
  const template = buildStatefulSet(everyField).spec?.template.metadata?.labels ?? {};
  const live = buildPodMetadata(everyField).metadata?.labels ?? {};
  for (const [key, value] of Object.entries(template)) assert.is(live[key], value, key);
});

podMetadata.run();
