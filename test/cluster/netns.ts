// Stands in for the node's network and its CNI bridge plugin: a sealed network namespace
// holding the whole cluster (bridge kbr0 = 10.244.0.1/16, the Service range routed onto it), and
// one child namespace per Pod on a veth of that bridge (hairpin on, as kubelet's hairpin-veth).
// A Pod's MAC is derived from its IP (podMac), so a Pod that gets a freed IP is reached through
// the neighbour entries the node and the other Pods still hold for that IP.
// Sealed: no interface or route to the host network exists in any of them, so a stray dial to a
// 10.x address dies inside. Names carry the owning process id, so a crashed run's leftovers are
// swept by the next one. Needs CAP_NET_ADMIN + CAP_SYS_ADMIN: root, or a rootless user namespace
// (rootless.ts); see requireSealedNetwork().
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning, onExitSync } from './processes.ts';
import { hasNetworkAdmin, inUserNamespace } from './rootless.ts';

export const PREFIX = 'sop';
export const BRIDGE_IP = '10.244.0.1';
export const POD_RANGE = '10.244.0.0/16';
export const SERVICE_RANGE = '10.96.0.0/16';
export const API_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
const NETNS_DIR = '/run/netns';
const ETC_NETNS = '/etc/netns';

/**
 * The MAC of the Pod with IPv4 `ip`: 0a:58 and the address's four bytes, as OVN-Kubernetes
 * derives its Pods' MACs (0a = locally administered, unicast). kwok hands a freed IP to the next
 * Pod at once; with a random MAC per veth, every namespace that talked to the old Pod kept its
 * neighbour entry (REACHABLE 15-45 s, then probed at the old MAC) and sent the new Pod's frames
 * to a MAC no port has: the Pod was unreachable from them for up to a minute and a half. (The
 * bridge CNI plugin sends a gratuitous ARP instead; with the MAC fixed by the IP no announcement,
 * and no race with the bridge port coming up, is needed.)
 */
export function podMac(ip: string): string {
  const bytes = ip.split('.').map(Number);
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ['0a', '58', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export type SealedNetwork = {
  /** The cluster's namespace (`ip netns` name). */
  name: string;
  /** `[command, args]` running `command` inside the cluster namespace. */
  exec(command: string, args: string[]): [string, string[]];
  /** Creates a Pod's namespace with `ip` on the bridge and the cluster DNS in its resolv.conf. */
  addPod(pod: { uid: string; ip: string; namespace: string }): Promise<PodNetwork>;
  /** Creates a host namespace for many Pods' IPs on one veth of the bridge (a shared Program, kubelet.ts). */
  addHost(key: number): Promise<HostNetwork>;
  /** Deletes every Pod namespace, then the cluster's (its bridge, veths and nft tables go with it). */
  remove(): Promise<void>;
};

export type PodNetwork = {
  name: string;
  exec(command: string, args: string[]): [string, string[]];
  remove(): Promise<void>;
};

/**
 * One namespace serving many Pods: each Pod's IP is an address of its one veth (eth0), so one
 * program answers at all of them. Its MAC is fixed per host, not derived from each IP: an IP
 * that moves from a host to a Pod of its own is reached once the neighbour entries for it age
 * out (podMac's note), so hosts are for runs whose Pods of that image are all hosted.
 */
export type HostNetwork = PodNetwork & {
  addAddress(ip: string): Promise<void>;
  removeAddress(ip: string): Promise<void>;
};

function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Says exactly what is missing when this process cannot create sealed network namespaces. */
export async function requireSealedNetwork(): Promise<void> {
  if (!hasNetworkAdmin()) {
    throw new Error(
      'the sealed cluster network needs CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces, veths, nftables, mounts): ' +
        'run as root, or start from an entry point that awaits enterRootlessIfNeeded() (test/cluster/rootless.ts: ' +
        '`npm start`, `npm test` and every test file that starts a sealed cluster do)',
    );
  }
  for (const tool of ['ip', 'nft', 'unshare']) {
    const found = await new Promise<boolean>((resolve) => execFile('sh', ['-c', `command -v ${tool}`], (error) => resolve(!error)));
    if (!found) throw new Error(`the sealed cluster network needs \`${tool}\` on PATH (Debian: apt-get install iproute2 nftables util-linux)`);
  }
}

/**
 * Creates the named network namespace (a file in /run/netns, as `ip netns add` makes it). In a
 * rootless user namespace `ip netns add` fails after the fact (it setns()es back into the host's
 * network, see rootless.ts), so there the namespace is made by unshare and bound to the file.
 */
async function addNamespace(name: string): Promise<void> {
  if (!inUserNamespace()) {
    await ip(['netns', 'add', name]);
    return;
  }
  await mkdir(NETNS_DIR, { recursive: true });
  await writeFile(join(NETNS_DIR, name), '', { flag: 'wx' });
  await new Promise<void>((resolve, reject) =>
    execFile('unshare', [`--net=${join(NETNS_DIR, name)}`, 'true'], { timeout: 30_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`unshare --net=${join(NETNS_DIR, name)}: ${stderr.trim() || error.message}`)) : resolve()));
}

/** Removes namespaces (and their resolv.conf dirs) whose owning process is gone. */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  const names = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : [];
  for (const name of names) {
    const owner = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (!owner || isRunning(Number(owner[1]))) continue;
    deleteNamespaceSync(name);
    removed.push(name);
  }
  const etc = existsSync(ETC_NETNS) ? readdirSync(ETC_NETNS) : [];
  for (const name of etc) {
    const owner = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (owner && !isRunning(Number(owner[1]))) rmSync(join(ETC_NETNS, name), { recursive: true, force: true });
  }
  return removed;
}

/** Kills what still runs in a namespace, then deletes it. */
function deleteNamespaceSync(name: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // the namespace is half gone already
  }
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // not there
  }
  rmSync(join(ETC_NETNS, name), { recursive: true, force: true });
}

export async function createSealedNetwork(): Promise<SealedNetwork> {
  await requireSealedNetwork();
  sweepLeftovers();
  const name = `${PREFIX}-${process.pid}-${randomBytes(2).toString('hex')}`;
  let removed = false;
  // Pod networks still being made. The runner's start of a Pod is not awaited by shutdown: an
  // `ip netns add` still running when remove() returned and the process exited created its
  // namespace after our cleanup (CI found one left after npm start's Ctrl-C). remove() waits for
  // them, and removes by name: every Pod namespace is named `${name}-…`.
  const making = new Set<Promise<unknown>>();
  const removeAll = () => {
    removed = true;
    for (const pod of harnessNamespaces().filter((n) => n.startsWith(`${name}-`))) deleteNamespaceSync(pod);
    deleteNamespaceSync(name);
  };
  const forget = onExitSync(removeAll);
  const inside = (args: string[]) => ip(['-n', name, ...args]);
  await addNamespace(name);
  try {
    await inside(['link', 'set', 'lo', 'up']);
    await inside(['link', 'add', 'kbr0', 'type', 'bridge']);
    await inside(['addr', 'add', `${BRIDGE_IP}/16`, 'dev', 'kbr0']);
    await inside(['link', 'set', 'kbr0', 'up']);
    // connect() to a ClusterIP needs a route; kube-proxy DNATs it before it leaves.
    await inside(['route', 'add', SERVICE_RANGE, 'dev', 'kbr0']);
    await ip(['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
  } catch (error) {
    deleteNamespaceSync(name);
    forget();
    throw error;
  }
  const exec = (ns: string) => (command: string, args: string[]): [string, string[]] => ['ip', ['netns', 'exec', ns, command, ...args]];

  return {
    name,
    exec: exec(name),
    addPod(pod) {
      const made = addPod(pod);
      const settled = made.catch(() => undefined);
      making.add(settled);
      void settled.then(() => making.delete(settled));
      return made;
    },
    async addHost(key) {
      const made = addHost(key);
      const settled = made.catch(() => undefined);
      making.add(settled);
      void settled.then(() => making.delete(settled));
      return made;
    },
    async remove() {
      removed = true;
      await Promise.all(making);
      removeAll();
      forget();
    },
  };

  /** A new namespace of this network, not yet plugged in. */
  async function newNamespace(nsName: string, what: string): Promise<PodNetwork> {
    if (removed) throw new Error(`sealed network ${name} is removed; no ${what}`);
    await addNamespace(nsName);
    return { name: nsName, exec: exec(nsName), remove: async () => deleteNamespaceSync(nsName) };
  }

  /** Plugs a namespace into the bridge: its eth0 (with `mac`) paired with `veth` on kbr0, hairpin on, both up. */
  async function plugIn(nsName: string, veth: string, mac: string): Promise<void> {
    await ip(['-n', nsName, 'link', 'set', 'lo', 'up']);
    await inside(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac, 'netns', nsName]);
    await inside(['link', 'set', veth, 'master', 'kbr0']);
    await inside(['link', 'set', 'dev', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
    await inside(['link', 'set', veth, 'up']);
    await ip(['-n', nsName, 'link', 'set', 'eth0', 'up']);
  }

  async function addPod({ uid, ip: podIp, namespace }: { uid: string; ip: string; namespace: string }): Promise<PodNetwork> {
    const short = uid.replace(/-/g, '').slice(0, 10);
    const pod = await newNamespace(`${name}-${short}`, `Pod network for ${uid}`);
    try {
      await plugIn(pod.name, `v${short}`, podMac(podIp));
      await ip(['-n', pod.name, 'addr', 'add', `${podIp}/16`, 'dev', 'eth0']);
      await ip(['-n', pod.name, 'route', 'add', 'default', 'via', BRIDGE_IP]);
      // `ip netns exec` bind-mounts /etc/netns/<name>/* over /etc for the process it starts.
      await mkdir(join(ETC_NETNS, pod.name), { recursive: true });
      await writeFile(
        join(ETC_NETNS, pod.name, 'resolv.conf'),
        `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${DNS_SERVICE_IP}\noptions ndots:5\n`,
      );
      await writeFile(join(ETC_NETNS, pod.name, 'hosts'), `127.0.0.1 localhost\n${podIp} ${short}\n`);
      if (removed) throw new Error(`sealed network ${name} was removed while Pod ${uid}'s network was being created`);
    } catch (error) {
      await pod.remove();
      throw error;
    }
    return pod;
  }

  async function addHost(key: number): Promise<HostNetwork> {
    if (!Number.isInteger(key) || key < 0 || key > 255) throw new Error(`host key ${key} is not 0-255`);
    const base = await newNamespace(`${name}-host${key}`, `host network ${key}`);
    const host: HostNetwork = {
      ...base,
      // replace: idempotent, so a start retried after a failed one does not trip over its own address.
      addAddress: async (address) => void (await ip(['-n', base.name, 'addr', 'replace', `${address}/32`, 'dev', 'eth0'])),
      removeAddress: async (address) => void (await ip(['-n', base.name, 'addr', 'del', `${address}/32`, 'dev', 'eth0']).catch(() => '')),
    };
    try {
      // 0a:59 (locally administered, unicast), apart from podMac's 0a:58.
      await plugIn(base.name, `vhost${key}`, `0a:59:00:00:00:${key.toString(16).padStart(2, '0')}`);
      await ip(['-n', base.name, 'route', 'add', POD_RANGE, 'dev', 'eth0']);
      await ip(['-n', base.name, 'route', 'add', 'default', 'via', BRIDGE_IP, 'dev', 'eth0']);
      if (removed) throw new Error(`sealed network ${name} was removed while host network ${key} was being created`);
    } catch (error) {
      await host.remove();
      throw error;
    }
    return host;
  }
}

/** Names of this machine's network namespaces made by the harness (for tests of stop()). */
export function harnessNamespaces(): string[] {
  return existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => n.startsWith(`${PREFIX}-`)) : [];
}
