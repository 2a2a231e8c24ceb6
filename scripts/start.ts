// `npm start`: the operator running locally with one command.
//
//   npm start                              local sandbox: control plane + kwok node, the real
//                                          ApiServerSource adapters, a local Broker routing by
//                                          knative/'s Triggers, the three functions, media-server
//                                          doubles, and the spec's quickstart Streamer
//   npm start -- --no-example              the same without the example Streamer
//   npm start -- --kubeconfig <path>       the functions, adapters and resync against a cluster
//                                          (also when KUBECONFIG is set; a list a:b is merged as
//                                          kubectl merges it)
//   npm start -- --context <name>          with --kubeconfig or KUBECONFIG: that context instead of
//                                          the current-context
//   npm start -- --resync-seconds <n>      resync period (default: the PingSource's, 10 min)
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBinaries } from '../test/cluster/binaries.ts';
import { repoRoot, startCluster, type Cluster } from '../test/cluster/index.ts';
import { startSandbox } from '../test/sandbox/operator.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { createLogger } from '../lib/runtime/log.ts';
import { contextKubeconfig, needsSingleFile } from './context-kubeconfig.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'no-example': { type: 'boolean', default: false },
    'resync-seconds': { type: 'string' },
  },
});
const log = createLogger();
const progress = (line: string) => log({ function: 'sandbox', outcome: 'progress', message: line });
const local = join(repoRoot, '.local');
const target = values.kubeconfig ?? process.env.KUBECONFIG;
const resyncIntervalMs = values['resync-seconds'] ? Number(values['resync-seconds']) * 1000 : undefined;

/** Function log lines are JSON; show them readable on a terminal. */
const functionLines = (line: string) => {
  try {
    log(JSON.parse(line) as Record<string, unknown>);
  } catch {
    log({ function: 'sandbox', outcome: 'output', message: line });
  }
};

let cluster: Cluster | undefined;
let kubeconfig: string;
let binDir: string;
if (target) {
  progress(`running against the cluster of ${target}; building the ApiServerSource adapter if needed`);
  binDir = await buildBinaries(progress);
  kubeconfig = needsSingleFile(target, values.context)
    ? await contextKubeconfig({ kubectl: join(binDir, 'kubectl'), kubeconfig: target, context: values.context, out: join(local, 'kubeconfig-context') })
    : target;
} else {
  if (values.context) throw new Error('--context chooses a context of --kubeconfig or KUBECONFIG; without either, npm start runs its own cluster');
  progress('starting the local control plane (the first build of its Go binaries takes about 6 minutes on 2 cores, plus module downloads)');
  cluster = await startCluster({ crdDirs: [join(repoRoot, 'crds')], log: progress });
  binDir = cluster.binDir;
  kubeconfig = join(local, 'kubeconfig');
  await mkdir(join(local, 'bin'), { recursive: true });
  await copyFile(cluster.kubeconfig, kubeconfig);
  await rm(join(local, 'bin', 'kubectl'), { force: true });
  await symlink(join(binDir, 'kubectl'), join(local, 'bin', 'kubectl'));
  // The quickstart's license Secret; the sandbox needs no real license.
  await cluster.kubectl(['create', 'secret', 'generic', 'flussonic-license', '--from-literal=license_key=sandbox-license']);
}

const sandbox = await startSandbox({
  kubeconfig,
  binDir,
  resyncIntervalMs,
  mediaServers: !target,
  log,
  functionLines,
});

if (cluster && !values['no-example']) {
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  progress('applied the example Streamer "simple" (the spec\'s quickstart)');
}

const kubectl = cluster ? join(local, 'bin', 'kubectl') : 'kubectl';
process.stdout.write(
  [
    '',
    'sandbox ready',
    `  kubeconfig: ${kubeconfig}`,
    `  kubectl:    ${kubectl}`,
    `  functions:  ${Object.entries(sandbox.functions.urls).map(([n, u]) => `${n} ${u}`).join(', ')}`,
    '',
    'Try (in another terminal):',
    `  export KUBECONFIG=${kubeconfig}`,
    `  ${kubectl} get streamers`,
    `  ${kubectl} wait --for=condition=StreamerReady=true streamer/simple --timeout=60s`,
    `  ${kubectl} get secret simple-license-storage -o jsonpath='{.data.edit_auth}' | base64 -d; echo`,
    `  ${kubectl} patch streamer simple --type=merge -p '{"spec":{"configExtra":{"extra.conf":"stream demo { input fake://fake; }\\n"}}}'`,
    `  ${kubectl} get streamer simple -o jsonpath='{.status.conditions[?(@.type=="StreamerConfigSaved")]}'; echo`,
    `  ${kubectl} delete streamer simple`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  progress('stopping');
  await sandbox.stop();
  await cluster?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
