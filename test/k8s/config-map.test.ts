import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildConfigMap } from '../../lib/k8s/config-map.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { everyField, everyFieldConfigText, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const configMap = suite('buildConfigMap');

configMap('builds the config ConfigMap of a Streamer using every field', () => {
  assert.equal(plain(buildConfigMap(everyField)), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: richChildMeta('rich-config'),
    data: {
      'k8s.conf': everyFieldConfigText,
    },
  });
});

configMap('is named <name>-config and holds exactly the rendered config', () => {
  const built = buildConfigMap(quickstart);
  assert.is(built.metadata?.name, 'simple-config');
  assert.equal(built.data, { 'k8s.conf': renderMediaServerConfig(quickstart) });
});

configMap.run();
