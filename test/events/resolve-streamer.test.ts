import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectRef } from '../../lib/events/event-types.ts';
import { resolveStreamer } from '../../lib/events/resolve-streamer.ts';
import { fakeReader } from './fake-reader.ts';
import { childObject, refs, streamerObject } from './fixtures.ts';

const cam1 = streamerObject('ns1', 'cam1');
const streamerKey = { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', namespace: 'ns1', name: 'cam1' };
const ownedByCam1 = (ref: ObjectRef) => childObject(ref, { name: 'cam1' });

const childKinds = ['statefulSet', 'configMap', 'secret', 'service', 'serviceAccount', 'role', 'roleBinding'] as const;

// ---

const streamer = suite('resolveStreamer: Streamer events');

streamer('a Streamer maps to itself, with the object as read now', async () => {
  const reader = fakeReader([cam1]);
  const target = await resolveStreamer({ ref: refs.streamer, object: { stale: true } }, reader);
  assert.equal(target, { namespace: 'ns1', name: 'cam1', streamer: cam1 });
  assert.equal(reader.reads, [streamerKey]);
});

streamer('a Streamer that no longer exists maps to null', async () => {
  assert.is(await resolveStreamer({ ref: refs.streamer }, fakeReader([])), null);
});

streamer('a Streamer of another version is read as media.flussonic.com/v1alpha1', async () => {
  const reader = fakeReader([cam1]);
  const ref = { ...refs.streamer, apiVersion: 'media.flussonic.com/v1beta1' };
  assert.is((await resolveStreamer({ ref }, reader))?.name, 'cam1');
  assert.equal(reader.reads, [streamerKey]);
});

streamer('a Streamer kind of another group is not ours', async () => {
  const ref = { ...refs.streamer, apiVersion: 'other.example.com/v1' };
  const reader = fakeReader([cam1]);
  assert.is(await resolveStreamer({ ref }, reader), null);
});

streamer.run();

// ---

const resource = suite('resolveStreamer: Resource-mode children (owner from the payload)');

for (const kind of childKinds) {
  resource(`${refs[kind].kind} controlled by a Streamer maps to that Streamer without reading the child`, async () => {
    const reader = fakeReader([cam1]);
    const target = await resolveStreamer({ ref: refs[kind], object: ownedByCam1(refs[kind]) }, reader);
    assert.equal(target, { namespace: 'ns1', name: 'cam1', streamer: cam1 });
    assert.equal(reader.reads, [streamerKey]);
  });
}

resource('a delete uses the payload: the child is gone but its owner reference is in the event', async () => {
  const reader = fakeReader([cam1]);
  assert.is((await resolveStreamer({ ref: refs.configMap, object: ownedByCam1(refs.configMap) }, reader))?.name, 'cam1');
});

resource('the owner reference of the payload wins over the name', async () => {
  const cam2 = streamerObject('ns1', 'cam2');
  const object = childObject(refs.configMap, { name: 'cam2' });
  assert.is((await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1, cam2])))?.name, 'cam2');
});

resource('a Pod maps through its StatefulSet, read now', async () => {
  const reader = fakeReader([cam1, ownedByCam1(refs.statefulSet)]);
  const pod = childObject(refs.pod, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cam1-streamer' });
  const target = await resolveStreamer({ ref: refs.pod, object: pod }, reader);
  assert.equal(target, { namespace: 'ns1', name: 'cam1', streamer: cam1 });
  assert.equal(reader.reads.map((k) => k.kind), ['StatefulSet', 'Streamer']);
});

resource('a Pod whose StatefulSet is gone maps by the StatefulSet name', async () => {
  const pod = childObject(refs.pod, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cam1-streamer' });
  assert.is((await resolveStreamer({ ref: refs.pod, object: pod }, fakeReader([cam1])))?.name, 'cam1');
});

resource('a Pod of a StatefulSet that no Streamer controls maps to null', async () => {
  const statefulSet = childObject(refs.statefulSet, null);
  const pod = childObject(refs.pod, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cam1-streamer' });
  assert.is(await resolveStreamer({ ref: refs.pod, object: pod }, fakeReader([cam1, statefulSet])), null);
});

resource('an owner reference without controller: true is not followed', async () => {
  const object = childObject(refs.configMap, { name: 'cam1', controller: false });
  assert.is(await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1])), null);
});

resource('a controller of another kind is not followed', async () => {
  const object = childObject(refs.configMap, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cam1' });
  assert.is(await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1])), null);
});

resource('a Streamer controller of another group is not followed', async () => {
  const object = childObject(refs.configMap, { apiVersion: 'other.example.com/v1', kind: 'Streamer', name: 'cam1' });
  assert.is(await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1])), null);
});

resource('an object without owner references maps to null', async () => {
  const object = childObject(refs.configMap, null);
  assert.is(await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1])), null);
});

resource('a child whose Streamer no longer exists maps to null', async () => {
  assert.is(await resolveStreamer({ ref: refs.secret, object: ownedByCam1(refs.secret) }, fakeReader([])), null);
});

resource('a malformed owner reference list is skipped, not fatal', async () => {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cam1-config', namespace: 'ns1', ownerReferences: [42, { kind: 'Streamer' }] } };
  assert.is(await resolveStreamer({ ref: refs.configMap, object }, fakeReader([cam1])), null);
});

resource.run();

// ---

const reference = suite('resolveStreamer: Reference-mode children (owner from the current object)');

for (const kind of childKinds) {
  reference(`${refs[kind].kind} that exists maps through its current owner reference`, async () => {
    const reader = fakeReader([cam1, ownedByCam1(refs[kind])]);
    assert.is((await resolveStreamer({ ref: refs[kind] }, reader))?.name, 'cam1');
    assert.equal(reader.reads.map((k) => k.kind), [refs[kind].kind, 'Streamer']);
  });

  reference(`${refs[kind].kind} that is gone (delete) maps by the naming convention`, async () => {
    const reader = fakeReader([cam1]);
    assert.equal(await resolveStreamer({ ref: refs[kind] }, reader), { namespace: 'ns1', name: 'cam1', streamer: cam1 });
  });
}

reference('a Pod that exists maps through its StatefulSet', async () => {
  const pod = childObject(refs.pod, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cam1-streamer' });
  const reader = fakeReader([cam1, pod, ownedByCam1(refs.statefulSet)]);
  assert.is((await resolveStreamer({ ref: refs.pod }, reader))?.name, 'cam1');
  assert.equal(reader.reads.map((k) => k.kind), ['Pod', 'StatefulSet', 'Streamer']);
});

reference('a Pod that is gone maps by its name <streamer>-streamer-0', async () => {
  assert.is((await resolveStreamer({ ref: refs.pod }, fakeReader([cam1])))?.name, 'cam1');
});

reference('an existing child without a Streamer owner maps to null even when its name fits', async () => {
  const reader = fakeReader([cam1, childObject(refs.configMap, null)]);
  assert.is(await resolveStreamer({ ref: refs.configMap }, reader), null);
});

reference('a gone object whose name does not follow the convention maps to null without more reads', async () => {
  const reader = fakeReader([cam1]);
  const ref = { ...refs.configMap, name: 'something-else' };
  assert.is(await resolveStreamer({ ref }, reader), null);
  assert.equal(reader.reads.map((k) => k.kind), ['ConfigMap']);
});

reference('a gone child named for a Streamer that does not exist maps to null', async () => {
  assert.is(await resolveStreamer({ ref: refs.role }, fakeReader([])), null);
});

reference('read failures propagate (the handler classifies them)', async () => {
  const failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  try {
    await resolveStreamer({ ref: refs.configMap }, fakeReader([cam1], failure));
    assert.unreachable('expected the read error');
  } catch (error) {
    assert.is(error, failure);
  }
});

reference.run();
