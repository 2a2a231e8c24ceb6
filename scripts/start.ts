// `npm start`: the operator running locally with one command.
//
//   npm start                              local sandbox: a control plane + kwok node in a sealed
//                                          network namespace (root, or rootless:
//                                          test/cluster/rootless.ts), real Knative Eventing,
//                                          `kubectl apply -k knative/`, the functions as two
//                                          replicas of the ksvc stand-in, a media-server double in
//                                          each streamer Pod, and the spec's quickstart Streamer;
//                                          the printed kubeconfig reaches the API server through
//                                          the relay on 127.0.0.1 (test/cluster/relay.ts)
//   npm start -- --no-example              the same without the example Streamer
//   npm start -- --kubeconfig <path>       the functions, adapters and resync here, against a
//                                          cluster (like make run; the local Broker of
//                                          test/sandbox/operator.ts; also when KUBECONFIG is set;
//                                          a list a:b is merged as kubectl merges it)
//   npm start -- --context <name>          with --kubeconfig or KUBECONFIG: that context instead of
//                                          the current-context
//   npm start -- --resync-seconds <n>      resync period against a cluster (default: the PingSource's, 10 min;
//                                          locally the real PingSource of knative/ ticks)
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBinaries } from '../test/cluster/binaries.ts';
import { repoRoot, startCluster, type Cluster } from '../test/cluster/index.ts';
import { startSandbox, type Sandbox } from '../test/sandbox/operator.ts';
import { installEventing, OPERATOR_NAMESPACE, startKnativeSandbox } from '../test/sandbox/real-knative.ts';
import { STANDIN_SUFFIX } from '../test/sandbox/knative-service.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { createLogger } from '../lib/runtime/log.ts';
import { contextKubeconfig, needsSingleFile } from './context-kubeconfig.ts';
import { enterRootlessIfNeeded } from '../test/cluster/rootless.ts';

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

// Without root, the local sandbox runs in a rootless user namespace (test/cluster/rootless.ts).
if (!target) await enterRootlessIfNeeded();

let cluster: Cluster | undefined;
let kubeconfig: string;
let binDir: string;
let functionsAddress = '';
// The functions' own lines (one per event), from the ksvc stand-in's Pods.
const functionsPod = `${OPERATOR_NAMESPACE}/streamer-operator${STANDIN_SUFFIX}-`;
const podLines = (pod: string, line: string) => {
  if (pod.startsWith(functionsPod)) functionLines(line);
};
if (target) {
  progress(`running against the cluster of ${target}; building the ApiServerSource adapter if needed`);
  binDir = await buildBinaries(progress);
  kubeconfig = needsSingleFile(target, values.context)
    ? await contextKubeconfig({ kubectl: join(binDir, 'kubectl'), kubeconfig: target, context: values.context, out: join(local, 'kubeconfig-context') })
    : target;
} else {
  if (values.context) throw new Error('--context chooses a context of --kubeconfig or KUBECONFIG; without either, npm start runs its own cluster');
  progress('starting the local control plane and Knative Eventing (the first build of their Go binaries takes about 14 minutes on 2 cores, plus module downloads)');
  cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], log: progress, podLines, alongside: installEventing(progress) }).catch((error: Error) => {
    process.stderr.write(`npm start: ${error.message}\n`);
    process.exit(1);
  });
  binDir = cluster.binDir;
  kubeconfig = join(local, 'kubeconfig');
  await mkdir(join(local, 'bin'), { recursive: true });
  await copyFile(cluster.kubeconfig, kubeconfig);
  await rm(join(local, 'bin', 'kubectl'), { force: true });
  await symlink(join(binDir, 'kubectl'), join(local, 'bin', 'kubectl'));
  const started = cluster;
  const [knative] = await Promise.all([
    startKnativeSandbox(cluster, { replicas: 2, log: progress, eventingInstalled: true }).catch(async (error: Error) => {
      process.stderr.write(`npm start: ${error.message}\n`);
      await started.stop();
      process.exit(1);
    }),
    // The quickstart's license Secret; the sandbox needs no real license.
    cluster.kubectl(['create', 'secret', 'generic', 'flussonic-license', '--from-literal=license_key=sandbox-license']),
  ]);
  functionsAddress = `${knative.functionsUrl} (2 replicas, inside the cluster)`;
}

// Against an existing cluster: the functions, adapters and a local Broker here, as before.
const sandbox: Sandbox | undefined = target
  ? await startSandbox({ kubeconfig, binDir, resyncIntervalMs, mediaServers: false, log, functionLines })
  : undefined;
if (sandbox) functionsAddress = Object.entries(sandbox.functions.urls).map(([n, u]) => `${n} ${u}`).join(', ');

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
    `  functions:  ${functionsAddress}`,
    ...(cluster ? [`  logs:       ${join(cluster.runDir, 'logs')} (control plane: <component>.log; Knative and every Pod: pods/<namespace>_<pod>_<container>.log)`] : []),
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
  await sandbox?.stop();
  await cluster?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
