import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';


const buildScript = new URL('./build.sh', import.meta.url).pathname;
const knativeBuildScript = new URL('./build-knative.sh', import.meta.url).pathname;

/**
 * Runs build.sh (a no-op when the cache holds binaries for the same inputs)
 * and returns the folder with etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kubectl, kwok, apiserver_receive_adapter and kube-state-metrics.
 * STREAMER_OPERATOR_BIN_DIR overrides it with a ready folder.
 */
export async function buildBinaries(log: (line: string) => void): Promise<string> {
  return process.env.STREAMER_OPERATOR_BIN_DIR ?? runBuild(buildScript, 'control plane', log);
}

/**
 * Runs build-knative.sh (cached likewise) and returns the folder with the Knative Eventing
 * commands, kube-proxy, coredns and knative-config/. STREAMER_OPERATOR_KNATIVE_DIR overrides it.
 */
export async function buildKnativeBinaries(log: (line: string) => void): Promise<string> {
  return process.env.STREAMER_OPERATOR_KNATIVE_DIR ?? runBuild(knativeBuildScript, 'knative', log);
}

function runBuild(script: string, prefix: string, log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.startsWith(prefix)) log(line);
    });
    child.on('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`${script} failed (${code}):\n${stderr.split('\n').slice(-30).join('\n')}`));
    });
  });
}


const toolsDir = new URL('./tools/', import.meta.url).pathname;

/**
 * Builds test/cluster/tools/eventing/trigger-filter (Knative's own Trigger filter and validation
 * code, pinned by that module's go.sum) into the cache, keyed by a hash of its inputs and the Go
 * version, and returns the binary's path. Not in build-knative.sh: that script's key covers the
 * script itself, and this small program must not force a rebuild of all of Knative.
 */
export async function buildTriggerFilter(log: (line: string) => void = () => undefined): Promise<string> {
  const moduleDir = join(toolsDir, 'eventing');
  const goVersion = await run('go', ['version'], moduleDir);
  const hash = createHash('sha256').update(goVersion);
  for (const file of ['go.mod', 'go.sum', join('trigger-filter', 'main.go')]) hash.update(await readFile(join(moduleDir, file)));
  const cacheRoot = process.env.STREAMER_OPERATOR_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'streamer-operator');
  const binary = join(cacheRoot, `trigger-filter-${hash.digest('hex').slice(0, 16)}`, 'trigger-filter');
  if (existsSync(binary)) return binary;
  log('knative build: the trigger-filter tool (Knative\'s filter code)');
  await mkdir(dirname(binary), { recursive: true });
  const partial = `${binary}.partial.${process.pid}`;
  await run('go', ['build', '-ldflags', '-s -w', '-o', partial, './trigger-filter'], moduleDir, { CGO_ENABLED: '0', GOFLAGS: '-trimpath -buildvcs=false' });
  await rename(partial, binary);
  return binary;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout: 15 * 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      (error ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}
