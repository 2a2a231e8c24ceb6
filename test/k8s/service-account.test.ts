import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildServiceAccount } from '../../lib/k8s/service-account.ts';
import { everyField } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const serviceAccount = suite('buildServiceAccount');

serviceAccount('builds the <name>-sa ServiceAccount', () => {
  assert.equal(plain(buildServiceAccount(everyField)), {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: richChildMeta('rich-sa'),
  });
});

serviceAccount.run();
