// Child processes of the local control plane: each runs in its own process
// group, logs to a file, and is killed (with its children) on stop() or, as a
// last resort, when this Node process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Socket } from 'node:net';

export type Managed = {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after graceMs. Resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): Promise<string>;
};

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Removes `dir` when this process exits, unless forgotten first (stop() removes it itself). */
export function removeOnExit(dir: string): () => void {
  installExitHook();
  dirs.add(dir);
  return () => dirs.delete(dir);
}
let exitHookInstalled = false;
const exitActions = new Set<() => void>();

/**
 * Runs `action` (synchronously) when this process exits, after its managed processes are
 * killed, unless the returned function is called first (stop() cleans up itself).
 */
export function onExitSync(action: () => void): () => void {
  installExitHook();
  exitActions.add(action);
  return () => exitActions.delete(action);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is the goal.
  }
}

/** Kills every managed process synchronously; runs on exit so a crashed test leaves nothing behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    for (const action of exitActions) {
      try {
        action();
      } catch {
        // best effort: the next start sweeps what is left
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // A program with its own handler (npm start) shuts down gracefully; 'exit' still cleans up.
      if (process.listenerCount(signal) > 0) return;
      cleanup();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

export function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each line the process writes (besides the log file). */
  onLine?: (line: string) => void;
}): Managed {
  installExitHook();
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.on('error', () => undefined); // a run dir removed under a late restart: nothing to log to
  const child = spawn(options.command, options.args, {
    detached: true,
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (options.onLine) {
    const onLine = options.onLine;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) onLine(line);
      });
    }
  }
  // Do not keep the event loop alive: a test file that started its own cluster
  // stops it from 'beforeExit', which only fires once nothing else is pending.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  child.once('close', () => log.end());
  const pid = child.pid;

  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (!live.has(child)) return;
      // The child and its pipes are unref'd: hold the event loop open until it is really gone.
      const keepAlive = setInterval(() => undefined, 1_000);
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing it started lingers in its group.
      killGroup(child, 'SIGKILL');
      if (!log.closed) {
        log.end();
        await Promise.race([once(log, 'close').catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000))]);
      }
      clearInterval(keepAlive);
    },
    async tail(lines = 20) {
      const text = await readFile(options.logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
  };
}

/** True while a process with this pid exists (zombies of our own children excluded by waiting). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
