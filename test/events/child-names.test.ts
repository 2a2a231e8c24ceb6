import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { streamerNameFromChild } from '../../lib/events/child-names.ts';
import { childNames } from '../../lib/k8s/meta.ts';
import { live, quickstartManifest } from '../fixtures/streamers.ts';

/** Which kind each childNames() entry names. */
const KIND_OF = {
  statefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  pod: { apiVersion: 'v1', kind: 'Pod' },
  headlessService: { apiVersion: 'v1', kind: 'Service' },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap' },
  licenseStorageSecret: { apiVersion: 'v1', kind: 'Secret' },
  serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount' },
  role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  roleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
} as const;

const names = suite('streamerNameFromChild');

for (const streamerName of ['cam1', 'a', 'studio-streamer', 'x-config-rb']) {
  const streamer = live({ ...quickstartManifest, metadata: { ...quickstartManifest.metadata, name: streamerName } });
  const children = childNames(streamer);
  for (const [key, kind] of Object.entries(KIND_OF)) {
    names(`inverts childNames().${key} for Streamer '${streamerName}'`, () => {
      const name = children[key as keyof typeof children];
      assert.is(streamerNameFromChild({ ...kind, name }), streamerName);
    });
  }
}

names('every childNames() entry has an inverse here', () => {
  const streamer = live(quickstartManifest);
  assert.equal(Object.keys(childNames(streamer)).sort(), Object.keys(KIND_OF).sort());
});

names('a Pod of any ordinal, but not a malformed ordinal', () => {
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'Pod', name: 'cam1-streamer-12' }), 'cam1');
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'Pod', name: 'cam1-streamer-01' }), null);
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'Pod', name: 'cam1-streamer' }), null);
});

names('a name without the kind\'s suffix, a bare suffix, or another kind maps to null', () => {
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cam1-headless' }), null);
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'ConfigMap', name: '-config' }), null);
  assert.is(streamerNameFromChild({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cam1-streamer' }), null);
});

names('the API group must match the kind', () => {
  assert.is(streamerNameFromChild({ apiVersion: 'v1', kind: 'StatefulSet', name: 'cam1-streamer' }), null);
  assert.is(streamerNameFromChild({ apiVersion: 'example.com/v1', kind: 'Role', name: 'cam1-role' }), null);
});

names.run();
