import { execFile } from 'node:child_process';
import { join } from 'node:path';

export type KubectlResult = { stdout: string; stderr: string; code: number };
export type KubectlOptions = { input?: string; timeoutMs?: number };

export type Kubectl = {
  /** Runs kubectl; never throws on a non-zero exit. */
  run(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Runs kubectl and throws with its stderr on a non-zero exit. */
  ok(args: string[], options?: KubectlOptions): Promise<string>;
  /** `kubectl ... -o json`, parsed. */
  json<T = unknown>(args: string[], options?: KubectlOptions): Promise<T>;
} & ((args: string[], options?: KubectlOptions) => Promise<KubectlResult>);

export function kubectlRunner({ binDir, kubeconfig }: { binDir: string; kubeconfig: string }): Kubectl {
  const run = (args: string[], options: KubectlOptions = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile(
        join(binDir, 'kubectl'),
        [`--kubeconfig=${kubeconfig}`, ...args],
        { timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout, stderr, code });
        },
      );
      child.stdin?.end(options.input ?? '');
    });
  const ok = async (args: string[], options?: KubectlOptions) => {
    const result = await run(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  };
  const json = async <T,>(args: string[], options?: KubectlOptions) =>
    JSON.parse(await ok([...args, '-o', 'json'], options)) as T;
  return Object.assign((args: string[], options?: KubectlOptions) => run(args, options), { run, ok, json });
}
