// readEditAuth against real Secrets and ConfigMaps: the same source the Pod's
// FLUSSONIC_EDIT_AUTH uses, its resourceVersion, and errors that never carry the value.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EditAuthUnavailableError, readEditAuth } from '../../lib/push-config/edit-auth-source.ts';
import { ensureLicenseStorage } from '../../lib/reconcile/license-storage.ts';
import { useCluster } from '../cluster/shared.ts';
import { adminClient, createStreamer, secretValue } from '../status/streamers.ts';

const cluster = await useCluster();
const kube = await adminClient(cluster);
const namespace = await cluster.createNamespace('edit-auth');
const USER_AUTH = 'operator:user-chosen-pass';

const read = suite('readEditAuth');

read.before(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'my-edit-auth', namespace }, stringData: { edit_auth: USER_AUTH } });
  await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-map', namespace }, data: { edit_auth: 'map:map-pass' } });
});

read('default: key edit_auth of <name>-license-storage, with its resourceVersion', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'generated' });
  await ensureLicenseStorage({ kube, streamer });
  const auth = await readEditAuth({ kube, streamer });
  assert.is(auth.value, await secretValue(kube, namespace, 'generated-license-storage', 'edit_auth'));
  assert.match(auth.value, /^admin:.+/);
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'generated-license-storage' });
  assert.is(auth.version, secret?.metadata.resourceVersion);
});

read('the version changes when the Secret is edited by hand', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'edited' });
  await ensureLicenseStorage({ kube, streamer });
  const before = await readEditAuth({ kube, streamer });
  await kube.patch({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'edited-license-storage' }, { stringData: { edit_auth: 'admin:new' } });
  const after = await readEditAuth({ kube, streamer });
  assert.is(after.value, 'admin:new');
  assert.is.not(after.version, before.version);
});

read('spec.editAuth secretKeyRef: the user\'s Secret', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'own', spec: { editAuth: { secretKeyRef: { name: 'my-edit-auth', key: 'edit_auth' } } } });
  assert.is((await readEditAuth({ kube, streamer })).value, USER_AUTH);
});

read('spec.editAuth configMapKeyRef: the ConfigMap value', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'mapped', spec: { editAuth: { configMapKeyRef: { name: 'auth-map', key: 'edit_auth' } } } });
  assert.is((await readEditAuth({ kube, streamer })).value, 'map:map-pass');
});

const failures = [
  { name: 'a missing Secret', spec: { editAuth: { secretKeyRef: { name: 'nope', key: 'edit_auth' } } }, message: /^Secret nope was not found$/ },
  { name: 'a missing key', spec: { editAuth: { secretKeyRef: { name: 'my-edit-auth', key: 'other' } } }, message: /^Secret my-edit-auth has no key other$/ },
  { name: 'a missing ConfigMap key', spec: { editAuth: { configMapKeyRef: { name: 'auth-map', key: 'other' } } }, message: /^ConfigMap auth-map has no key other$/ },
  { name: 'a fieldRef (only the kubelet resolves it)', spec: { editAuth: { fieldRef: { fieldPath: 'metadata.name' } } }, message: /secretKeyRef or configMapKeyRef/ },
];
for (const [index, failure] of failures.entries()) {
  read(`${failure.name} → EditAuthUnavailableError`, async () => {
    const streamer = await createStreamer(kube, { namespace, name: `fail-${index}`, spec: failure.spec });
    const error = await readEditAuth({ kube, streamer }).catch((e: unknown) => e);
    assert.instance(error, EditAuthUnavailableError);
    assert.match((error as Error).message, failure.message);
    assert.not.match((error as Error).message, /user-chosen-pass|map-pass/);
  });
}

read.run();
