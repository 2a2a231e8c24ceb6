// Child processes for the cold-start bench: spawn, wait for the "listening"
// log line, read the kernel's memory accounting, stop. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export type MemoryKb = { hwmKb: number; rssKb: number };

/** Peak (VmHWM) and current (VmRSS) resident set of a live process, from /proc. */
export async function memoryOf(pid: number): Promise<MemoryKb> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { hwmKb: field('VmHWM'), rssKb: field('VmRSS') };
}

export type Started = { child: ChildProcess; spawnedAt: number; listeningAt: number };

/**
 * Spawns `node args…` and resolves when a stdout line contains `"outcome":"listening"`.
 * `spawnedAt` is taken just before spawn(); both stamps are performance.now().
 */
export function startListening({ args, env, timeoutMs = 20_000 }: { args: string[]; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Started> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => fail(new Error(`no "listening" line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: ${error.message}\n${stderr.slice(-2_000)}`));
    };
    child.once('exit', (code) => fail(new Error(`exited with ${code} before listening`)));
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      if (!buffer.includes('"outcome":"listening"')) return;
      const listeningAt = performance.now();
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining the function's log lines
      resolve({ child, spawnedAt, listeningAt });
    };
    child.stdout!.on('data', onData);
  });
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs `node args…` to completion; resolves with its wall time (ms) and stdout. */
export function runToExit({ args, env, cwd, timeoutMs = 20_000 }: { args: string[]; env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(-1_000)}`));
    });
  });
}
