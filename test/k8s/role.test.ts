import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRole } from '../../lib/k8s/role.ts';
import { buildLicenseStorageSecret } from '../../lib/k8s/secret.ts';
import { everyField, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const role = suite('buildRole');

role('builds the <name>-role Role', () => {
  assert.equal(plain(buildRole(everyField)), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: richChildMeta('rich-role'),
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['rich-license-storage'], verbs: ['get', 'update', 'patch'] }],
  });
});

role('is least-privilege: only get/update/patch, only the license-storage Secret', () => {
  const rules = buildRole(quickstart).rules ?? [];
  assert.is(rules.length, 1);
  const [rule] = rules;
  assert.equal(rule?.resources, ['secrets']);
  assert.equal(rule?.resourceNames, [buildLicenseStorageSecret(quickstart).metadata?.name]);
  for (const verb of ['list', 'watch', 'create', 'delete', '*']) assert.not.ok(rule?.verbs.includes(verb), verb);
});

role.run();
