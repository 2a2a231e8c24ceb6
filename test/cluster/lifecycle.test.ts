// startCluster/stop own their processes: nothing outlives stop().
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { startCluster } from './index.ts';
import { isRunning } from './processes.ts';
import { useCluster } from './shared.ts';

const test = suite('cluster lifecycle');

test('stop() leaves no process of the cluster running and removes its run dir', async () => {
  // Reuse the binaries of the shared cluster; this starts a second, private control plane.
  const shared = await useCluster();
  process.env.STREAMER_OPERATOR_BIN_DIR = shared.binDir;
  const cluster = await startCluster({ nodes: ['lifecycle-node'], log: () => undefined });
  assert.is(cluster.pids.length, 5); // etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
  assert.ok(cluster.pids.every(isRunning));
  const nodes = await cluster.kubectl.json<{ items: { metadata: { name: string } }[] }>(['get', 'nodes']);
  assert.equal(nodes.items.map((n) => n.metadata.name), ['lifecycle-node']);
  await cluster.stop();
  assert.equal(cluster.pids.filter(isRunning), []);
  assert.not.ok(existsSync(cluster.runDir));
});

test.run();
