// The pure lifecycle rules of reconcile-children: which objects are ours (child-conflict.ts),
// which changes need a delete and create (immutable.ts, agreeing with spec-changes.ts), and
// which Pod holds up a rollout (stuck-rollout.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../lib/kube/client.ts';
import { buildRoleBinding } from '../../lib/k8s/role-binding.ts';
import { buildService } from '../../lib/k8s/service.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import { ChildConflictError, conflictOf, isControlledBy } from '../../lib/reconcile/child-conflict.ts';
import { stampHash } from '../../lib/reconcile/drift.ts';
import { immutableChanges } from '../../lib/reconcile/immutable.ts';
import { blocksRollout } from '../../lib/reconcile/stuck-rollout.ts';
import type { StreamerSpecInput } from '../../lib/schema/streamer.ts';
import { classifySpecChange } from '../../lib/spec-changes.ts';
import { everyFieldManifest, live, quickstart, TEST_UID } from '../fixtures/streamers.ts';

const object = (o: object) => o as KubeObject;
const configMap = (ownerReferences?: object[]) =>
  object({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'simple-config', namespace: 'media', ...(ownerReferences ? { ownerReferences } : {}) } });
const streamerRef = (uid: string, controller = true) => ({ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', name: 'simple', uid, controller });

// ---

const owners = suite('child-conflict: an object is ours only when its controller reference has our uid');

owners('absent, or controlled by this uid: no conflict', () => {
  assert.is(conflictOf(null, quickstart), null);
  assert.is(conflictOf(configMap([streamerRef(TEST_UID)]), quickstart), null);
  assert.ok(isControlledBy(configMap([streamerRef(TEST_UID)]), quickstart));
});

owners('no owner, a non-controller reference with our uid, or another controller: a conflict naming it', () => {
  for (const [refs, holder] of [
    [undefined, 'no controller'],
    [[streamerRef(TEST_UID, false)], 'no controller'],
    [[{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'mine', uid: 'd-1', controller: true }], 'controlled by Deployment mine'],
  ] as const) {
    const conflict = conflictOf(configMap(refs as object[] | undefined), quickstart);
    assert.ok(conflict);
    assert.equal(conflict, { kind: 'ConfigMap', namespace: 'media', name: 'simple-config', holder, leftover: false });
  }
});

owners('a Streamer of the same name but another uid is a leftover of a deleted one', () => {
  const conflict = conflictOf(configMap([streamerRef('old-uid')]), quickstart);
  assert.is(conflict?.leftover, true);
});

owners('ChildConflictError: the contract fields, and a message that names the object and the fix', () => {
  const error = new ChildConflictError([conflictOf(configMap(), quickstart)!]);
  assert.is(error.code, 'CHILD_CONFLICT');
  assert.is(error.permanent, true);
  assert.is(error.kind, 'ConfigMap');
  assert.is(error.name, 'simple-config');
  assert.ok(error instanceof Error);
  assert.is(error.message, 'ConfigMap simple-config (no controller) exists and is not controlled by this Streamer: left untouched; delete or rename it to converge');
  const role = { ...conflictOf(configMap(), quickstart)!, kind: 'Role', name: 'simple-role' };
  const leftover = conflictOf(configMap([streamerRef('old-uid')]), quickstart)!;
  const all = new ChildConflictError([conflictOf(configMap(), quickstart)!, role, leftover]);
  assert.match(all.message, /^ConfigMap simple-config \(no controller\), Role simple-role \(no controller\) exist and are not controlled by this Streamer/);
  assert.match(all.message, /; ConfigMap simple-config is left by a deleted Streamer of the same name/);
  assert.ok(all.message.length <= 300, `${all.message.length} characters`);
});

owners.run();

// ---

const immutable = suite('immutable: what a delete and create must change');

/** A live object as our earlier apply left it: stamped with the applied hash. */
const applied = (o: object) => stampHash(o as KubeObject);
const changed = (change: Partial<StreamerSpecInput>) => live({ ...everyFieldManifest, spec: { ...everyFieldManifest.spec, ...change } });
const rich = live(everyFieldManifest);

immutable('the StatefulSet we applied, unchanged or with any non-selector change: applied in place', () => {
  const liveSet = applied(buildStatefulSet(rich));
  assert.equal(immutableChanges(applied(buildStatefulSet(rich)), liveSet), []);
  for (const change of [{ version: 'v27.01-1' }, { env: [] }, { nodeName: 'other' }, { labels: { a: 'b' } }] as Partial<StreamerSpecInput>[]) {
    assert.equal(immutableChanges(applied(buildStatefulSet(changed(change))), liveSet), [], JSON.stringify(change));
  }
});

immutable('every spec field spec-changes.ts marks "recreate" changes an immutable field, and no other does', () => {
  const changes: Partial<StreamerSpecInput>[] = [
    { selectorLabels: { app: 'renamed' } }, { selectorLabels: {} }, { version: 'v2' }, { image: 'x/y' }, { hostPort: 1 },
    { publicUrl: 'https://x/' }, { labels: {} }, { env: [] }, { volumes: [] }, { nvidiaGpuCount: 0 },
  ];
  const liveSet = applied(buildStatefulSet(rich));
  for (const change of changes) {
    const next = changed(change);
    const recreate = classifySpecChange(rich.spec, next.spec).recreate.length > 0;
    assert.is(immutableChanges(applied(buildStatefulSet(next)), liveSet).length > 0, recreate, JSON.stringify(change));
  }
});

immutable('a selector change is named; a StatefulSet another controller made is recreated too', () => {
  const liveSet = applied(buildStatefulSet(rich));
  assert.equal(immutableChanges(applied(buildStatefulSet(changed({ selectorLabels: { app: 'x' } }))), liveSet), ['spec.selector']);
  const theirs = object({ ...buildStatefulSet(rich), metadata: { name: 'rich-streamer', namespace: 'media' } });
  assert.equal(immutableChanges(applied(buildStatefulSet(rich)), theirs), ['made by another controller']);
  const extra = object({ ...liveSet, spec: { ...(liveSet.spec as object), selector: { matchLabels: { app: 'rich-streamer' }, matchExpressions: [{ key: 'a', operator: 'Exists' }] } } });
  assert.equal(immutableChanges(applied(buildStatefulSet(rich)), extra), ['spec.selector']);
});

immutable('a Service that is not headless, a RoleBinding with another roleRef', () => {
  const service = applied(buildService(quickstart));
  assert.equal(immutableChanges(service, object({ ...service, spec: { ...(service.spec as object), clusterIP: '10.0.0.7' } })), ['spec.clusterIP']);
  assert.equal(immutableChanges(service, service), []);
  const binding = applied(buildRoleBinding(quickstart));
  assert.equal(immutableChanges(binding, object({ ...binding, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } })), ['roleRef']);
  assert.equal(immutableChanges(binding, binding), []);
});

immutable.run();

// ---

const stuck = suite('stuck-rollout: only an outdated, not-Ready Pod of a seen spec is deleted');

const set = (status: object, generation = 2) => object({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's', generation }, status });
const pod = (revision: string, ready: 'True' | 'False' | undefined, extra: object = {}) =>
  object({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 's-0', labels: { 'controller-revision-hash': revision }, ...extra },
    status: { conditions: ready ? [{ type: 'Ready', status: ready }] : [] },
  });
const rolling = set({ observedGeneration: 2, currentRevision: 's-old', updateRevision: 's-new' });

stuck('an outdated Pod that is not Ready (or has no Ready condition, e.g. Pending) blocks the rollout', () => {
  assert.ok(blocksRollout(rolling, pod('s-old', 'False')));
  assert.ok(blocksRollout(rolling, pod('s-old', undefined)));
});

stuck('a Ready Pod, a current Pod, a terminating Pod, or a spec the controller has not seen yet: left alone', () => {
  assert.not.ok(blocksRollout(rolling, pod('s-old', 'True')));
  assert.not.ok(blocksRollout(rolling, pod('s-new', 'False')));
  assert.not.ok(blocksRollout(rolling, pod('s-old', 'False', { deletionTimestamp: '2026-01-01T00:00:00Z' })));
  assert.not.ok(blocksRollout(set({ observedGeneration: 1, updateRevision: 's-new' }), pod('s-old', 'False')));
  assert.not.ok(blocksRollout(set({ observedGeneration: 2 }), pod('s-old', 'False')));
});

stuck.run();
