// The sealed network's own contract (netns.ts), without a cluster: removing it leaves none of its
// namespaces behind, not even a Pod's whose creation was still under way when the process exits
// right after remove(). The process runner starts a Pod's network while the cluster may already
// be stopping (npm start's Ctrl-C), and CI once found such a Pod namespace left after stop().
// Needs root, or runs itself in a rootless user namespace (rootless.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { harnessNamespaces, podMac } from './netns.ts';
import { enterRootlessIfNeeded } from './rootless.ts';

await enterRootlessIfNeeded();

const test = suite('sealed network namespaces');

test('a Pod\'s MAC is 0a:58 and its IP\'s four bytes', () => {
  assert.is(podMac('10.244.1.16'), '0a:58:0a:f4:01:10');
  assert.throws(() => podMac('10.244.1'), /not an IPv4 address/);
});

// Run in its own process, which exits the moment remove() resolves, as npm start does.
const stopWhileStarting = `
  import { createSealedNetwork } from ${JSON.stringify(new URL('./netns.ts', import.meta.url).href)};
  const net = await createSealedNetwork();
  await net.addPod({ uid: 'aaaaaaaa-0000-0000-0000-000000000001', ip: '10.244.0.11', namespace: 'default' });
  const starting = [2, 3, 4].map((n) => net.addPod({ uid: 'bbbbbbbb-0000-0000-0000-00000000000' + n, ip: '10.244.0.1' + n, namespace: 'default' }).then(() => 'made', (e) => e.message));
  await net.remove();
  const late = await net.addPod({ uid: 'cccccccc-0000-0000-0000-000000000005', ip: '10.244.0.15', namespace: 'default' }).then(() => 'made', (e) => e.message);
  console.log(JSON.stringify({ name: net.name, late }));
  process.exit(0);
`;

test('remove() takes the cluster namespace and every Pod namespace, those still being made included; none is made after it', async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', stopWhileStarting], { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout))));
  const { name, late } = JSON.parse(out.trim().split('\n').pop()!) as { name: string; late: string };
  assert.match(late, /is removed; no Pod network/);
  // An `ip netns add` cut off by the exit would finish within this.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(harnessNamespaces().filter((n) => n === name || n.startsWith(`${name}-`)), []);
});

test.run();
