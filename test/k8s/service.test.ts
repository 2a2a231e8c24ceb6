import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildService } from '../../lib/k8s/service.ts';
import { everyField, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const service = suite('buildService');

service('builds the headless Service of a Streamer using every field', () => {
  assert.equal(plain(buildService(everyField)), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: richChildMeta('rich-headless'),
    spec: {
      clusterIP: 'None',
      selector: { app: 'rich-streamer' },
      publishNotReadyAddresses: true,
      ports: [
        { name: 'payload', port: 8080, targetPort: 'payload', protocol: 'TCP' },
        { name: 'api', port: 81, targetPort: 'api', protocol: 'TCP' },
      ],
    },
  });
});

service('is named <name>-headless and has no cluster IP', () => {
  const built = buildService(quickstart);
  assert.is(built.metadata?.name, 'simple-headless');
  assert.is(built.spec?.clusterIP, 'None');
});

service('exposes payload 80 and API 81 by default', () => {
  assert.equal(buildService(quickstart).spec?.ports?.map((p) => [p.name, p.port]), [['payload', 80], ['api', 81]]);
});

service.run();
