// The processes of a sealed sandbox run (test/cluster/netns.ts), found from /proc: every process
// whose network namespace is one of this run's (`sop-<our pid>-*`: the cluster's, each Pod's, each
// shared host's), plus the harness-side ones given. Synchronous file reads only: the process
// runner (test/cluster/kubelet.ts) lives in the bench's process, and a sampler that spawned a
// program per PID blocked its event loop for seconds at a time under load (no Pod was started
// for 15 minutes).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { harnessNamespaces } from '../test/cluster/netns.ts';

const netnsInode = (name: string): number | undefined => {
  try {
    return statSync(join('/run/netns', name)).ino;
  } catch {
    return undefined; // gone
  }
};

/** PIDs of the processes in the named network namespaces. */
export function pidsIn(names: string[]): number[] {
  const wanted = new Set(names.map(netnsInode).filter((i): i is number => i !== undefined));
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const inode = Number(/net:\[(\d+)\]/.exec(readlinkSync(`/proc/${entry}/ns/net`))?.[1]);
      if (wanted.has(inode)) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Every process of this run's sandbox: in one of its network namespaces, plus `pids` and this process. */
export function sandboxPids(pids: number[]): number[] {
  const ours = harnessNamespaces().filter((n) => n.startsWith(`sop-${process.pid}-`));
  return [...new Set([...pids, process.pid, ...pidsIn(ours)])];
}

/** VmRSS of a process in KiB (0 once it is gone). */
export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** A process's name for a report: its program, or for node the script it runs. */
export function processName(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const program = basename(argv[0] ?? '?');
    if (program !== 'node') return program;
    const script = argv.slice(1).find((a) => /\.(ts|js|mjs)$/.test(a));
    return script ? `node ${basename(script)}` : 'node';
  } catch {
    return '?';
  }
}
