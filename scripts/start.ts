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
//
// It always runs its own cluster: KUBECONFIG in the environment is ignored (and kept from every
// process it starts). Running the functions here against another cluster (`--kubeconfig`,
// `--context`, `--resync-seconds`) is gone; a cluster runs the operator as docs/install.md says.
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { installEventing, OPERATOR_NAMESPACE, startKnativeSandbox } from '../test/sandbox/real-knative.ts';
import { STANDIN_SUFFIX } from '../test/sandbox/knative-service.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { createLogger } from '../lib/runtime/log.ts';
import { enterRootlessIfNeeded } from '../test/cluster/rootless.ts';

/** The flags of the removed mode that ran the functions here against an existing cluster. */
const REMOVED_FLAGS = ['--kubeconfig', '--context', '--resync-seconds'];
const removed = process.argv.slice(2).find((arg) => REMOVED_FLAGS.some((flag) => arg === flag || arg.startsWith(`${flag}=`)));
if (removed) {
  process.stderr.write([
    `npm start: ${removed.split('=')[0]} is no longer supported: npm start does not run the functions on this machine against an existing cluster any more.`,
    'To run the operator on your cluster, install Knative Eventing there and deploy it with `kubectl apply -k knative/` (docs/install.md).',
    'npm start without these flags runs its own local sandbox.',
    '',
  ].join('\n'));
  process.exit(2);
}

const { values } = parseArgs({ options: { 'no-example': { type: 'boolean', default: false } } });
const log = createLogger();
const progress = (line: string) => log({ function: 'sandbox', outcome: 'progress', message: line });
const local = join(repoRoot, '.local');
if (process.env.KUBECONFIG) {
  progress(`KUBECONFIG is set (${process.env.KUBECONFIG}); npm start ignores it and runs its own cluster (its kubeconfig is printed below)`);
  delete process.env.KUBECONFIG;
}

/** Function log lines are JSON; show them readable on a terminal. */
const functionLines = (line: string) => {
  try {
    log(JSON.parse(line) as Record<string, unknown>);
  } catch {
    log({ function: 'sandbox', outcome: 'output', message: line });
  }
};

// Without root, the local sandbox runs in a rootless user namespace (test/cluster/rootless.ts).
await enterRootlessIfNeeded();

// The functions' own lines (one per event), from the ksvc stand-in's Pods.
const functionsPod = `${OPERATOR_NAMESPACE}/streamer-operator${STANDIN_SUFFIX}-`;
const podLines = (pod: string, line: string) => {
  if (pod.startsWith(functionsPod)) functionLines(line);
};
progress('starting the local control plane and Knative Eventing (the first build of their Go binaries takes about 14 minutes on 2 cores, plus module downloads)');
const cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], log: progress, podLines, alongside: installEventing(progress) }).catch((error: Error) => {
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exit(1);
});
const kubeconfig = join(local, 'kubeconfig');
const kubectl = join(local, 'bin', 'kubectl');
await mkdir(join(local, 'bin'), { recursive: true });
await copyFile(cluster.kubeconfig, kubeconfig);
await rm(kubectl, { force: true });
await symlink(join(cluster.binDir, 'kubectl'), kubectl);
const [knative] = await Promise.all([
  startKnativeSandbox(cluster, { replicas: 2, log: progress, eventingInstalled: true }).catch(async (error: Error) => {
    process.stderr.write(`npm start: ${error.message}\n`);
    await cluster.stop();
    process.exit(1);
  }),
  // The quickstart's license Secret; the sandbox needs no real license.
  cluster.kubectl(['create', 'secret', 'generic', 'flussonic-license', '--from-literal=license_key=sandbox-license']),
]);

if (!values['no-example']) {
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  progress('applied the example Streamer "simple" (the spec\'s quickstart)');
}

process.stdout.write(
  [
    '',
    'sandbox ready',
    `  kubeconfig: ${kubeconfig}`,
    `  kubectl:    ${kubectl}`,
    `  functions:  ${knative.functionsUrl} (2 replicas, inside the cluster)`,
    `  logs:       ${join(cluster.runDir, 'logs')} (control plane: <component>.log; Knative and every Pod: pods/<namespace>_<pod>_<container>.log)`,
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
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
