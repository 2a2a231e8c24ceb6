// reconcile-children with several replicas: a Streamer update event (another function's status
// write) reaching a replica that did not converge the Streamer itself. Against the real API
// server: one replica's core brings the children to the generation and records ChildrenReady;
// the function's work, as a second replica runs it (its own converged set knows nothing of this
// Streamer), then skips on the recorded condition, with no read; a new generation is worked.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { definition } from '../../functions/reconcile-children/definition.ts';
import { reconcileAndReport } from '../../lib/reconcile/children-condition.ts';
import { useCluster } from '../cluster/shared.ts';
import { adminClient, createStreamer, patchSpec, readStreamer } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('converged-elsewhere');
const update = { kind: 'Streamer', action: 'update' };

const test = suite('reconcile-children: a generation another replica converged');

test('an update event of a generation with ChildrenReady True costs no read; a new generation gets the full pass', async () => {
  const created = await createStreamer(admin, { namespace, name: 'cam' });
  // Replica A: the core alone (it does not touch the function's converged set).
  const reported = await reconcileAndReport({ kube: admin, streamer: created, reportingInstance: 'replica-a' });
  assert.is(reported.kind, 'applied');
  const converged = await readStreamer(admin, namespace, 'cam');
  const ready = converged.status?.conditions?.find((c) => c.type === 'ChildrenReady');
  assert.equal([ready?.status, ready?.observedGeneration], ['True', converged.metadata.generation]);

  // Replica B gets the status write's update event.
  const kube = await adminClient(cluster, 'streamer-operator');
  assert.equal(await definition.work({ kube, streamer: converged, cause: update }), { skipped: 'generation-converged' });
  assert.equal(kube.stats(), { reads: 0, writes: 0 });

  // An edit: the recorded generation is behind, so the same event kind does the work.
  const edited = await patchSpec(admin, converged, { publicUrl: 'https://cdn.example.com/cam' });
  const worked = await adminClient(cluster, 'streamer-operator');
  const result = await definition.work({ kube: worked, streamer: edited, cause: update });
  assert.not.equal(result, { skipped: 'generation-converged' });
  assert.ok(worked.stats().reads >= 7, `read the children: ${JSON.stringify(worked.stats())}`);
  // And a create event is never skipped, whatever the condition says.
  const again = await adminClient(cluster, 'streamer-operator');
  const fresh = await readStreamer(admin, namespace, 'cam');
  assert.not.equal(await definition.work({ kube: again, streamer: fresh, cause: { kind: 'Streamer', action: 'add' } }), { skipped: 'generation-converged' });
  assert.ok(again.stats().reads >= 7);
});

test.run();
