import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRole } from '../../lib/k8s/role.ts';
import { buildRoleBinding } from '../../lib/k8s/role-binding.ts';
import { buildServiceAccount } from '../../lib/k8s/service-account.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import { everyField, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const roleBinding = suite('buildRoleBinding');

roleBinding('builds the <name>-rb RoleBinding', () => {
  assert.equal(plain(buildRoleBinding(everyField)), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: richChildMeta('rich-rb'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rich-role' },
    subjects: [{ kind: 'ServiceAccount', name: 'rich-sa', namespace: 'media' }],
  });
});

roleBinding('binds the Role to the ServiceAccount the Pod runs as', () => {
  const binding = buildRoleBinding(quickstart);
  assert.is(binding.roleRef.name, buildRole(quickstart).metadata?.name);
  assert.is(binding.subjects?.[0]?.name, buildServiceAccount(quickstart).metadata?.name);
  assert.is(binding.subjects?.[0]?.name, buildStatefulSet(quickstart).spec?.template.spec?.serviceAccountName);
});

roleBinding.run();
