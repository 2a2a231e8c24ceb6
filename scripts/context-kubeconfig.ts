// `npm start -- --kubeconfig <path or list> --context <name>`: everything the sandbox
// starts (the functions, the Go ApiServerSource adapters, kubectl) reads one kubeconfig
// file with its current-context. When a context is chosen, or KUBECONFIG names several
// files, kubectl itself writes that file: `kubectl config view --flatten --minify`
// merges the list as kubectl does, keeps only the chosen context, embeds certificate
// files and makes relative paths absolute, and leaves exec plugins and auth providers
// as they are (each component runs them itself).
import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when `kubeconfig` (a path or a KUBECONFIG-style list) needs `contextKubeconfig` to be one file with the right context. */
export const needsSingleFile = (kubeconfig: string, context?: string) => context !== undefined || kubeconfig.includes(delimiter);

/** Writes the kubeconfig of `context` (default: the current-context) from `kubeconfig` to `out`; returns `out`. */
export async function contextKubeconfig({ kubectl, kubeconfig, context, out }: { kubectl: string; kubeconfig: string; context?: string; out: string }): Promise<string> {
  const args = ['config', 'view', '--flatten', '--minify', ...(context ? [`--context=${context}`] : [])];
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  let stdout: string;
  try {
    ({ stdout } = await run(kubectl, args, { env, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new Error(`cannot use ${context ? `context "${context}" of ` : ''}${kubeconfig}: ${stderr}`);
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, stdout, { mode: 0o600 });
  await chmod(out, 0o600);
  return out;
}
