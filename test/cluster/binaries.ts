import { spawn } from 'node:child_process';


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

