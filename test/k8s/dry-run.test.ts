// Every built object is valid for the real API server: each kind is server-side applied with
// --dry-run=server, owned by a real Streamer. Then the quickstart's children are applied for
// real: the StatefulSet's Pod lands on the pinned node and takes the live Pod metadata, and
// deleting the Streamer garbage-collects every child.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildConfigMap } from '../../lib/k8s/config-map.ts';
import { buildPodMetadata } from '../../lib/k8s/pod-metadata.ts';
import { buildRoleBinding } from '../../lib/k8s/role-binding.ts';
import { buildRole } from '../../lib/k8s/role.ts';
import { buildLicenseStorageSecret, buildLicenseStorageSecretSeed, generateEditAuth } from '../../lib/k8s/secret.ts';
import { buildServiceAccount } from '../../lib/k8s/service-account.ts';
import { buildService } from '../../lib/k8s/service.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { everyFieldManifest, live, quickstartManifest, type StreamerManifest } from '../fixtures/streamers.ts';

const cluster = await useCluster();
const namespace = await cluster.createNamespace('builders');

/** Creates the Streamer for real and returns it as stored, with its real uid. */
async function createStreamer(manifest: StreamerManifest): Promise<Streamer> {
  const created = await cluster.kubectl.json<{ metadata: { uid: string } }>(
    ['create', '-n', namespace, '-f', '-'],
    { input: JSON.stringify(manifest) },
  );
  return live(manifest, { namespace, uid: created.metadata.uid });
}

const serverSideApply = (object: unknown, extra: string[] = []) =>
  cluster.kubectl(['apply', '--server-side', '--field-manager=streamer-operator', ...extra, '-f', '-'], { input: JSON.stringify(object) });

const builders = {
  StatefulSet: buildStatefulSet,
  Service: buildService,
  ConfigMap: buildConfigMap,
  Secret: buildLicenseStorageSecret,
  ServiceAccount: buildServiceAccount,
  Role: buildRole,
  RoleBinding: buildRoleBinding,
} as const;

const rich = await createStreamer(everyFieldManifest);
const simple = await createStreamer(quickstartManifest);

// ---

const dryRun = suite('built objects pass --dry-run=server');

for (const [kind, build] of Object.entries(builders)) {
  for (const streamer of [rich, simple]) {
    dryRun(`${kind} of "${streamer.metadata.name}"`, async () => {
      const object = build(streamer);
      assert.is(object.kind, kind);
      const result = await serverSideApply(object, ['--dry-run=server']);
      assert.is(result.code, 0, result.stderr);
      assert.match(result.stdout, /serverside-applied \(server dry run\)/);
    });
  }
}

dryRun('the license-storage seed Secret (one-time create)', async () => {
  const seed = buildLicenseStorageSecretSeed({ streamer: rich, editAuth: generateEditAuth() });
  const result = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(seed) });
  assert.is(result.code, 0, result.stderr);
});

dryRun.run();

// ---

const applied = suite('applied children of the quickstart');

applied('the Pod runs on the pinned node and takes the live metadata', async () => {
  for (const build of Object.values(builders)) {
    const result = await serverSideApply(build(simple));
    assert.is(result.code, 0, result.stderr);
  }
  const podName = buildPodMetadata(simple).metadata?.name ?? '';
  const pod = await waitFor('the streamer Pod to be scheduled', async () => {
    const result = await cluster.kubectl(['get', 'pod', '-n', namespace, podName, '-o', 'json']);
    if (result.code !== 0) return undefined;
    const parsed = JSON.parse(result.stdout) as { spec: { nodeName?: string } };
    return parsed.spec.nodeName ? parsed : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  assert.is(pod.spec.nodeName, 'stream-node');

  const withPublicUrl = live({ ...quickstartManifest, spec: { ...quickstartManifest.spec, publicUrl: 'https://cdn.example.com', labels: { team: 'video' } } },
    { namespace, uid: simple.metadata.uid });
  const patched = await cluster.kubectl(
    ['apply', '--server-side', '--field-manager=streamer-operator-pod', '-f', '-'],
    { input: JSON.stringify(buildPodMetadata(withPublicUrl)) },
  );
  assert.is(patched.code, 0, patched.stderr);
  const after = await cluster.kubectl.json<{ metadata: { labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: { kind: string }[] } }>(
    ['get', 'pod', '-n', namespace, podName],
  );
  assert.is(after.metadata.labels['team'], 'video');
  assert.is(after.metadata.annotations['streamer.flussonic.com/public-payload'], 'https://cdn.example.com');
  assert.is(
    after.metadata.annotations['streamer.flussonic.com/api-endpoint'],
    `http://simple-streamer-0.simple-headless.${namespace}.svc.cluster.local:81/streamer/api/v3`,
  );
  assert.equal(after.metadata.ownerReferences.map((o) => o.kind), ['StatefulSet'], 'still owned by its StatefulSet');
});

applied('deleting the Streamer deletes every child (owner references)', async () => {
  const deleted = await cluster.kubectl(['delete', 'streamer', '-n', namespace, simple.metadata.name, '--wait=false']);
  assert.is(deleted.code, 0, deleted.stderr);
  for (const build of Object.values(builders)) {
    const { kind, metadata } = build(simple);
    await waitFor(`${kind} ${metadata?.name} to be garbage collected`, async () => {
      const result = await cluster.kubectl(['get', kind ?? '', '-n', namespace, metadata?.name ?? '', '--ignore-not-found', '-o', 'name']);
      return result.code === 0 && result.stdout.trim() === '' ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
  }
});

applied.run();
