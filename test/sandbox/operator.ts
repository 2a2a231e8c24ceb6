// The operator as it runs on a cluster, but on loopback: the real
// ApiServerSource adapters configured from knative/, a local Broker routing by
// the Triggers in knative/, the three functions as functions-framework
// processes, a resync tick like the PingSource, and a media-server double for
// every streamer Pod. Used by `npm start` and the end-to-end tests.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { repoRoot } from '../cluster/index.ts';
import { startAdapter, type RunningAdapter } from '../events/adapter.ts';
import { startBroker, type Broker, type TriggerLike } from './broker.ts';
import { FUNCTION_NAMES, startFunctions, type FunctionName, type RunningFunctions } from './functions.ts';
import { startMediaServers, type MediaServers } from './media-servers.ts';
import { apiServerSources, readManifests, type SourceConfig } from './sources.ts';
import { pingInterval } from '../knative/manifests.ts';
import { startTriggerRouter } from '../knative/trigger-filter.ts';

export type SandboxOptions = {
  kubeconfig: string;
  binDir: string;
  /** Resync period; @default the PingSource schedule in knative/ (a minute). 0 = no automatic ticks. */
  resyncIntervalMs?: number;
  /** Extra environment for the functions (e.g. RESYNC_CONCURRENCY). */
  functionEnv?: Record<string, string>;
  /** Run media-server doubles for streamer Pods. @default true */
  mediaServers?: boolean;
  log?: (fields: Record<string, unknown>) => void;
  /** Echo the functions' own log lines. */
  functionLines?: (line: string) => void;
  /** Deliver every event twice and out of order (see startBroker). */
  chaos?: { maxDelayMs: number };
  /** Processes per function; the Broker spreads deliveries across them. @default 1 */
  replicas?: number;
  /** How each function process is started (see startFunctions). @default from the sources */
  serveArgs?: (name: FunctionName, port: number) => string[];
};

export type Sandbox = {
  broker: Broker;
  functions: RunningFunctions;
  media: MediaServers | undefined;
  /** Sends one resync tick now, as the PingSource would. */
  tick(): Promise<void>;
  /** Stops the event sources (to lose events on purpose), and starts them again. */
  stopSources(): Promise<void>;
  startSources(): Promise<void>;
  stop(): Promise<void>;
};

export const knativeDir = join(repoRoot, 'knative');

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? (() => undefined);
  const manifests = await readManifests(knativeDir);
  const triggerManifests = manifests.filter((m) => m.kind === 'Trigger');
  const triggers = triggerManifests as unknown as TriggerLike[];
  const sources: SourceConfig[] = apiServerSources(manifests);
  const ping = pingInterval(manifests);

  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const functions = await startFunctions({ kubeconfig: options.kubeconfig, env: options.functionEnv, stdout: options.functionLines, replicas: options.replicas ?? 1, ...(options.serveArgs ? { serveArgs: options.serveArgs } : {}) });
    cleanups.push(functions.stop);

    // Knative's own filter code decides where each event goes (test/knative/trigger-filter.ts).
    const router = await startTriggerRouter(triggerManifests as never);
    cleanups.push(async () => router.stop());
    const broker = await startBroker({
      triggers,
      route: async (attributes) => (await router.route([attributes]))[0] ?? [],
      resolve(trigger) {
        const path = trigger.spec.subscriber?.uri ?? '';
        const name = FUNCTION_NAMES.find((n) => path.replace(/^\//, '').startsWith(n)) as FunctionName | undefined;
        return name ? functions.replicaUrls[name].map((url) => `${url}${path}`) : undefined;
      },
      log,
      maxBackoffMs: 2_000,
      ...(options.chaos ? { duplicateAndShuffle: options.chaos } : {}),
    });
    cleanups.push(broker.stop);

    let adapters: RunningAdapter[] = [];
    const startSources = async () => {
      adapters = await Promise.all(
        sources.map((source) => startAdapter({ ...source, binDir: options.binDir, kubeconfig: options.kubeconfig, sink: broker.url })),
      );
    };
    const stopSources = async () => {
      await Promise.all(adapters.map((a) => a.stop()));
      adapters = [];
    };
    await startSources();
    cleanups.push(stopSources);

    const tick = async () => {
      const response = await request(broker.url, {
        method: 'POST',
        headers: {
          'ce-specversion': '1.0',
          'ce-type': 'dev.knative.sources.ping',
          'ce-source': `/apis/v1/namespaces/streamer-operator-system/pingsources/${ping?.name ?? 'streamer-resync'}`,
          'ce-id': randomUUID(),
          'ce-time': new Date().toISOString(),
          'content-type': 'application/json',
        },
        body: ping?.data ?? '{}',
      });
      await response.body.dump();
    };
    const interval = options.resyncIntervalMs ?? ping?.intervalMs ?? 60_000;
    if (interval > 0) {
      const timer = setInterval(() => void tick().catch(() => undefined), interval);
      timer.unref();
      cleanups.push(async () => clearInterval(timer));
    }

    let media: MediaServers | undefined;
    if (options.mediaServers !== false) {
      media = await startMediaServers({ transport: await transportFromKubeconfig(options.kubeconfig), log });
      cleanups.push(media.stop);
    }

    return { broker, functions, media, tick, stopSources, startSources, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
