// Runs each operator function as its own process with functions-framework's
// server on a loopback port, as Knative would run each Service; with `replicas`,
// several processes per function, as Knative runs a scaled-out Service.
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'undici';
import { freePort } from '../cluster/ports.ts';
import { removeOnExit, startProcess, type Managed } from '../cluster/processes.ts';
import { waitFor } from '../cluster/wait.ts';

export const FUNCTION_NAMES = ['reconcile-children', 'push-config', 'probe-status'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const serveScript = new URL('../../scripts/serve-function.ts', import.meta.url).pathname;

export type RunningFunctions = {
  /** The first replica of each function. */
  urls: Record<FunctionName, string>;
  /** Every replica of each function (the first is `urls`). */
  replicaUrls: Record<FunctionName, string[]>;
  processes: Managed[];
  /** Each function's log file is `<logDir>/<name>.log`; further replicas log to `<name>-<n>.log`. */
  logDir: string;
  stop(): Promise<void>;
};

export async function startFunctions({
  kubeconfig,
  env = {},
  logDir,
  stdout,
  replicas = 1,
  serveArgs = (name, port) => [serveScript, name, String(port), '127.0.0.1'],
}: {
  kubeconfig: string;
  env?: Record<string, string>;
  /** Where each function's log goes. @default a temp dir */
  logDir?: string;
  /** Also echo each function's log lines here (npm start). */
  stdout?: (line: string) => void;
  /** Processes per function. @default 1 */
  replicas?: number;
  /** Node arguments serving function `name` on `port` (e.g. a built bundle). @default scripts/serve-function.ts from the sources */
  serveArgs?: (name: FunctionName, port: number) => string[];
}): Promise<RunningFunctions> {
  const dir = logDir ?? (await mkdtemp(join(tmpdir(), 'streamer-functions-')));
  const forgetDir = logDir ? () => false : removeOnExit(dir);
  const removeDir = async () => {
    if (!logDir) await rm(dir, { recursive: true, force: true });
    forgetDir();
  };
  const processes: Managed[] = [];
  const urls = {} as Record<FunctionName, string>;
  const replicaUrls = {} as Record<FunctionName, string[]>;
  try {
    for (const name of FUNCTION_NAMES) {
      replicaUrls[name] = [];
      for (let replica = 0; replica < replicas; replica++) {
        const port = await freePort();
        const managed = startProcess({
          name: replica === 0 ? name : `${name}-${replica}`,
          command: process.execPath,
          args: serveArgs(name, port),
          logFile: join(dir, replica === 0 ? `${name}.log` : `${name}-${replica}.log`),
          env: { ...process.env, KUBECONFIG: kubeconfig, NODE_ENV: 'production', ...env },
          onLine: stdout,
        });
        processes.push(managed);
        replicaUrls[name].push(`http://127.0.0.1:${port}`);
      }
      urls[name] = replicaUrls[name][0] as string;
    }
    for (const name of FUNCTION_NAMES) {
      for (const url of replicaUrls[name]) {
        await waitFor(`${name} ${url}/health/readiness`, async () => {
          const response = await request(`${url}/health/readiness`);
          await response.body.dump();
          return response.statusCode === 200 ? true : undefined;
        }, { timeoutMs: 30_000, intervalMs: 50 });
      }
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    await removeDir();
    throw error;
  }
  return {
    urls,
    replicaUrls,
    processes,
    logDir: dir,
    async stop() {
      await Promise.all(processes.map((p) => p.stop(5_000)));
      await removeDir();
    },
  };
}
