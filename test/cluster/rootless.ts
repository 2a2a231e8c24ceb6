// Stands in for the privileges a node's root gives kubelet and the CNI plugin, for a user who has
// none: the process re-runs itself inside a new user namespace (its uid mapped to root there) with
// a mount namespace of its own. There it holds CAP_NET_ADMIN and CAP_SYS_ADMIN over every network
// and mount namespace it creates, which is all the sealed network (netns.ts) and the process
// runner's mounts (kubelet.ts) need; the host's network and files stay as the user sees them, so
// the relay still listens on the host's 127.0.0.1.
//
// Inside, /run/netns and /etc/netns are private tmpfs (the user cannot write the host's), so the
// sealed network's namespaces exist in this mount namespace only and die with its last process:
// a crashed rootless run leaves nothing to sweep. `ip netns add` cannot be used there (after
// creating the namespace it setns()es back into the host's network namespace, which belongs to
// the initial user namespace: EPERM), so netns.ts creates namespaces with `unshare --net=<file>`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Whether this process holds CAP_NET_ADMIN and CAP_SYS_ADMIN (root, or root of its own user namespace). */
export function hasNetworkAdmin(status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!hex) return false;
  const caps = BigInt(`0x${hex}`);
  return ((caps >> CAP_NET_ADMIN) & 1n) === 1n && ((caps >> CAP_SYS_ADMIN) & 1n) === 1n;
}

/** Whether this process runs in a user namespace other than the host's (its uid_map is not the identity). */
export function inUserNamespace(uidMap = readFileSync('/proc/self/uid_map', 'utf8')): boolean {
  return uidMap.trim().split(/\s+/).join(' ') !== '0 0 4294967295';
}

// Run by unshare as the namespace's root: private /run/netns and /etc/netns, then the command.
// Where the host has no such directory, an overlay on its parent (upper half on the private
// tmpfs) lets it be made without writing the host's /run or /etc.
const SETUP = `set -e
state=$1; shift
mount -t tmpfs -o mode=0700 tmpfs "$state"
for dir in /run/netns /etc/netns; do
  if [ ! -d "$dir" ]; then
    parent=\${dir%/*}; layer="$state/layer\${parent}"
    mkdir -p "$layer/upper" "$layer/work"
    mount -t overlay overlay -o "lowerdir=$parent,upperdir=$layer/upper,workdir=$layer/work" "$parent"
    mkdir -p "$dir"
  fi
  mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
exec "$@"`;

/** What to tell a user whose kernel refuses unprivileged user namespaces, given unshare's error. */
function rootlessRefused(error: string): Error {
  return new Error(
    `the sealed cluster network needs root, or unprivileged user namespaces, and this machine allows neither: ` +
      `\`unshare --user --map-root-user --mount\` failed: ${error.trim() || 'no reason given'}. ` +
      'Either run as root (`sudo -E npm start`, `sudo -E npm test`), or enable unprivileged user namespaces: ' +
      '`sudo sysctl -w user.max_user_namespaces=28633`; on Debian before 11 also `sudo sysctl -w kernel.unprivileged_userns_clone=1`; ' +
      'on Ubuntu 23.10 and later also `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`.',
  );
}

/**
 * Makes the rest of this process privileged enough for a sealed cluster. With the capabilities
 * already (root, or root of a rootless namespace) it resolves at once. Otherwise (a user, or a
 * container's user namespace without them: the nested one works the same) it runs this same
 * command line again inside a rootless namespace set up as above, passes it every SIGINT,
 * SIGTERM and SIGHUP, and exits with its status; the promise it returns then never resolves.
 * Await it first thing at the top of an entry point, before anything is started.
 */
export function enterRootlessIfNeeded(): Promise<void> {
  if (hasNetworkAdmin()) return Promise.resolve();
  const probe = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw rootlessRefused(probe.error?.message ?? probe.stderr);
  const state = mkdtempSync(join(tmpdir(), 'sop-rootless-'));
  const argv = [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn('unshare', ['--user', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c', SETUP, 'sh', state, ...argv], { stdio: 'inherit' });
  // unshare and sh exec, so the pid is the one that runs the cluster (it names its namespaces).
  process.stderr.write(`no CAP_NET_ADMIN and CAP_SYS_ADMIN: the sealed cluster runs in a rootless user namespace (pid ${child.pid})\n`);
  child.on('error', (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    rmSync(state, { recursive: true, force: true });
    process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 1));
  });
  return new Promise(() => undefined);
}
