// The sealed cluster's Pod network (netns.ts, kubelet.ts) behaves as a node's bridge CNI does
// when Pods come and go. kwok hands a freed Pod IP to the next Pod at once (its IP pool reuses
// released addresses first), so a StatefulSet Pod deleted and recreated gets the same IP with a
// new network namespace and veth. Every namespace that talked to the old Pod — the node and the
// other Pods — still holds a neighbour (ARP) entry for that IP: the recreated Pod must be reached
// through it at once, not after the entries expire (15-45 s REACHABLE, then the probes), which
// is what stopped every delivery on the real-Knative harness when the streamer Pod was deleted
// (the functions' calls to the media server hung, and the Broker waits for their answers). And
// the old Pod's program is stopped before its object goes, so it never answers at that IP
// while the new Pod is Running (it refused the new Pod's password there).
// A volume is mounted where the host has no directory (/etc/coredns, /etc/flussonic/...) without
// making one there: the mount points live in the Pod's own mount namespace, so sealed clusters of
// other sessions on the machine never see, nor remove, each other's.
// With sharedMedia, every streamer Pod is served by one media-double process on a shared host
// (kubelet.ts Program.shared, test/media-double/serve-many.ts), each at its own IP with its own
// edit_auth and conf.d, as a Pod of its own would be.
// Needs root, or runs in a rootless user namespace (rootless.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DIR } from '../../lib/k8s/media-server-config.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { repoRoot, startCluster } from './index.ts';
import { DNS_SERVICE_IP, harnessNamespaces } from './netns.ts';
import { waitFor } from './wait.ts';

const HELLO_IMAGE = 'streamer-operator-test/http-hello';
// A Pod that answers with its own uid (from the downward API), or /conf with its mounted greeting.
const hello = `const read = () => require('node:fs').readFileSync(process.env.CONF_DIR + '/greeting', 'utf8');
  require('node:http').createServer((q, s) => s.end(q.url === '/conf' ? read() : process.env.POD_UID)).listen(8080, '0.0.0.0')`;
// A directory no host has: the volume's mount point, two levels below /etc.
const confDir = `/etc/sop-pod-network-${randomBytes(3).toString('hex')}/conf.d`;
const cluster = await startCluster({
  network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: ['stream-node'], sharedMedia: true,
  images: (image) => (image.startsWith(`${HELLO_IMAGE}:`) ? { command: process.execPath, args: ['-e', hello] } : undefined),
});
const sealed = cluster.sealed!;
const kubectl = cluster.kubectl;
const test = suite('sealed Pod network');

const run = ([command, args]: [string, string[]]) =>
  new Promise<{ ok: boolean; out: string }>((resolve) => execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => resolve({ ok: !error, out: `${stdout}${stderr}`.trim() })));
/** One GET from a network namespace, 3 s at most: the body, or the error. */
const getFrom = (exec: (command: string, args: string[]) => [string, string[]] | undefined, url: string, headers: Record<string, string> = {}) => {
  const script = `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => console.log(t), (e) => { console.error(String(e.cause ?? e)); process.exit(1); })`;
  const argv = exec(process.execPath, ['-e', script]);
  return argv ? run(argv) : Promise.resolve({ ok: false, out: 'the Pod does not run' });
};
const fromNode = (url: string, headers?: Record<string, string>) => getFrom(sealed.net.exec, url, headers);
const fromPod = (namespace: string, pod: string, url: string) => getFrom((c, a) => sealed.kubelet.execIn(namespace, pod, c, a), url);

let namespace: string | undefined;
/** A namespace with the hello StatefulSet (one Pod, its greeting ConfigMap mounted at confDir). */
async function helloNamespace(): Promise<string> {
  if (namespace) return namespace;
  const ns = await cluster.createNamespace('pod-net');
  const labels = { app: 'hello' };
  await kubectl.ok(['create', 'configmap', 'hello', '-n', ns, '--from-literal=greeting=hello from the volume']);
  await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'hello' },
    spec: { replicas: 1, serviceName: 'hello', selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {
      containers: [{
        name: 'hello', image: `${HELLO_IMAGE}:test`,
        env: [{ name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }, { name: 'CONF_DIR', value: confDir }],
        volumeMounts: [{ name: 'conf', mountPath: confDir }],
      }],
      volumes: [{ name: 'conf', configMap: { name: 'hello' } }],
    } } },
  }) });
  namespace = ns;
  return ns;
}

type PodLike = { metadata: { name: string; uid: string }; status?: { phase?: string; podIP?: string } };
const pod = (ns: string, name: string) => kubectl.json<PodLike>(['get', 'pod', name, '-n', ns]);

test('a deleted Pod\'s IP goes to its replacement, which the node and the other Pods reach at once', async () => {
  const ns = await helloNamespace();
  const dns = (await kubectl.json<{ items: PodLike[] }>(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns'])).items[0]!.metadata.name;
  // The Pod, answering the node and another Pod (CoreDNS's): both now hold its neighbour entry.
  const answered = async (uid: string) => {
    const ip = (await pod(ns, 'hello-0')).status?.podIP ?? '';
    const self = await fromPod(ns, 'hello-0', 'http://127.0.0.1:8080/');
    return self.out === uid ? ip : undefined;
  };
  const first = await waitFor('hello-0 serving', async () => {
    const p = await pod(ns, 'hello-0');
    return p.status?.phase === 'Running' && (await answered(p.metadata.uid)) ? p : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const ip = first.status!.podIP!;
  for (const got of [await fromNode(`http://${ip}:8080/`), await fromPod('kube-system', dns, `http://${ip}:8080/`)]) assert.is(got.out, first.metadata.uid);

  await kubectl.ok(['delete', 'pod', 'hello-0', '-n', ns, '--wait=true']);
  // As with a kubelet, the object goes only once the Pod's programs are stopped: by then its
  // network namespace is gone, so no old program answers at the IP its replacement gets.
  const oldNetns = `${cluster.netns}-${first.metadata.uid.replace(/-/g, '').slice(0, 10)}`;
  assert.not.ok(harnessNamespaces().includes(oldNetns), 'the deleted Pod still ran when its object was gone');
  const second = await waitFor('hello-0 recreated and serving', async () => {
    const p = await kubectl.run(['get', 'pod', 'hello-0', '-n', ns, '-o', 'json']);
    if (p.code !== 0) return undefined;
    const next = JSON.parse(p.stdout) as PodLike;
    return next.metadata.uid !== first.metadata.uid && next.status?.phase === 'Running' && (await answered(next.metadata.uid)) ? next : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  assert.is(second.status?.podIP, ip, 'kwok gave the recreated Pod the freed IP (the case this test is about)');

  // One try each, 3 s: the neighbour entries the node and CoreDNS's Pod hold for the IP lead to the new Pod.
  const node = await fromNode(`http://${ip}:8080/`);
  const other = await fromPod('kube-system', dns, `http://${ip}:8080/`);
  const evidence = async () => {
    const neigh = await run(sealed.net.exec('ip', ['neigh', 'show', ip]));
    const link = await run(sealed.kubelet.execIn(ns, 'hello-0', 'ip', ['-br', 'link', 'show', 'eth0'])!);
    return `node's neighbour entry: ${neigh.out}; the new Pod's eth0: ${link.out}`;
  };
  assert.is(node.out, second.metadata.uid, `from the node: ${node.out}; ${await evidence()}`);
  assert.is(other.out, second.metadata.uid, `from CoreDNS's Pod: ${other.out}; ${await evidence()}`);

  // And the other Pods were not disturbed: CoreDNS answers through its Service.
  const lookup = `const r = new (require('node:dns').promises.Resolver)({ timeout: 1000, tries: 2 }); r.setServers(['${DNS_SERVICE_IP}']);
    r.resolve4('kube-dns.kube-system.svc.cluster.local').then((a) => console.log(a.join(',')), (e) => { console.error(e.code); process.exit(1); });`;
  assert.is((await run(sealed.net.exec(process.execPath, ['-e', lookup]))).out, DNS_SERVICE_IP);
});

test('a volume mounted where the host has no directory: the Pod reads it, the host gets no mount point', async () => {
  const ns = await helloNamespace();
  const conf = await waitFor('hello-0 serving its greeting', async () => {
    const got = await fromPod(ns, 'hello-0', 'http://127.0.0.1:8080/conf');
    return got.ok ? got.out : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  assert.is(conf, 'hello from the volume');
  const top = confDir.split('/').slice(0, 3).join('/');
  assert.not.ok(existsSync(top), `${top} exists on the host while the Pod runs`);
  await kubectl.ok(['delete', 'namespace', ns, '--wait=true', '--timeout=60s']);
  await waitFor('hello-0 stopped', async () => (sealed.kubelet.running().some((k) => k.startsWith(`${ns}/`)) ? undefined : true), { timeoutMs: 30_000 });
  assert.not.ok(existsSync(top), `${top} exists on the host after the Pod stopped`);
});

test('streamer Pods on a shared host: one process serves each at its IP, with its own edit_auth and conf.d', async () => {
  const ns = await cluster.createNamespace('shared-media');
  const streamerPod = (name: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      automountServiceAccountToken: false,
      containers: [{
        name: 'flussonic', image: 'flussonic/flussonic:test',
        env: [{ name: 'FLUSSONIC_EDIT_AUTH', value: `admin:${name}-password` }],
        volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR }],
      }],
      volumes: [{ name: 'config', configMap: { name } }],
    },
  });
  for (const name of ['one', 'two']) {
    await kubectl.ok(['create', 'configmap', name, '-n', ns, `--from-literal=${name}.conf=stream ${name}-stream { input fake://${name}; }\n`]);
    await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(streamerPod(name)) });
  }
  const auth = (name: string) => ({ authorization: `Basic ${Buffer.from(`admin:${name}-password`).toString('base64')}` });
  const configAt = (ip: string, name: string) => fromNode(`http://${ip}:${API_PORT}/streamer/api/v3/config`, auth(name));
  const ips: Record<string, string> = {};
  for (const name of ['one', 'two']) {
    ips[name] = await waitFor(`${name} served on the shared host`, async () => {
      const ip = (await pod(ns, name)).status?.podIP;
      return ip && (await configAt(ip, name)).out.includes(`${name}-stream`) ? ip : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
  }
  assert.is.not(ips.one, ips.two);
  // Each at its own IP with its own password: two's password does not open one.
  assert.match((await configAt(ips.one!, 'two')).out, /authorization_failed/);
  // One process, in the host namespace that holds both IPs; the tests' state files by IP.
  const host = harnessNamespaces().filter((n) => n.startsWith(`${cluster.netns}-host`));
  assert.is(host.length, 1, `host namespaces: ${host.join(', ')}`);
  const pids = (await run(['ip', ['netns', 'pids', host[0]!]])).out.split('\n').filter(Boolean);
  assert.is(pids.length, 1, `processes on the shared host: ${pids.join(', ')}`);
  assert.is(JSON.parse(readFileSync(join(cluster.runDir, 'media', `${ips.one}.json`), 'utf8')).pod, 'one');

  // A deleted Pod stops answering at its IP (its address leaves the host); the other goes on.
  await kubectl.ok(['delete', 'pod', 'one', '-n', ns, '--wait=true']);
  assert.not.ok((await configAt(ips.one!, 'one')).ok, 'the deleted Pod still answers at its IP');
  assert.match((await configAt(ips.two!, 'two')).out, /two-stream/);
  await kubectl.ok(['delete', 'namespace', ns, '--wait=true', '--timeout=60s']);
});

test.after(async () => {
  await cluster.stop();
});

test.run();
