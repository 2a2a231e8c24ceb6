// Registration of an operator function with functions-framework. The
// Kubernetes transport is created on the first request (not at import), so a
// cold start costs one file read, and a missing kubeconfig becomes a 503 with
// a clear message instead of a crash loop.
import type { KubeTransport } from '../kube/client.ts';
import { defaultTransport } from '../kube/config.ts';
import { limitTransport, rateLimitsFromEnv } from '../kube/rate-limit.ts';
import { HEALTH_PATHS, type EventRequest, type EventResponse } from '../events/index.ts';
import { createLogger, type Logger } from './log.ts';
import { DEFAULT_PAGE_SIZE } from './resync.ts';
import { createWorkGate, GateFullError, type WorkGate } from './work-gate.ts';
import { makeStreamerFunction, type StreamerFunctionOptions } from './streamer-function.ts';

export type Handler = (req: EventRequest, res: EventResponse) => Promise<void>;

export type FunctionDefinition = Omit<StreamerFunctionOptions, 'transport' | 'log'>;

/** Settings read from the environment, with defaults. */
export function runtimeSettings(env: NodeJS.ProcessEnv = process.env) {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isFinite(value) && env[name] !== '' && env[name] !== undefined ? value : fallback;
  };
  const eventsInFlight = Math.max(1, Math.floor(number('MAX_EVENTS_IN_FLIGHT', 10)));
  return {
    resyncConcurrency: number('RESYNC_CONCURRENCY', 4),
    resyncDeadlineMs: number('RESYNC_DEADLINE_MS', 40_000),
    resyncPageSize: number('RESYNC_PAGE_SIZE', DEFAULT_PAGE_SIZE),
    /** How long after an event source's adapter rolled out the resync starts (streamer-function.ts). */
    resyncAfterRolloutMs: number('RESYNC_AFTER_ROLLOUT_MS', 5_000),
    /** The namespaced install's namespaces (comma-separated STREAMER_NAMESPACES); empty: all. */
    streamerNamespaces: (env.STREAMER_NAMESPACES ?? '').split(',').map((n) => n.trim()).filter(Boolean),
    /** Events worked on at once by this process, all functions together (work-gate.ts). */
    eventsInFlight,
    /**
     * Events held waiting for a slot, beyond which a delivery is answered 503 with Retry-After
     * (the Broker retries it with backoff): ten per slot by default, as Knative's queue-proxy
     * queues in front of a replica (work-gate.ts).
     */
    eventsWaiting: Math.max(0, Math.floor(number('MAX_EVENTS_WAITING', 10 * eventsInFlight))),
  };
}

/** What a delivery refused by a full gate is told to wait before it comes again. */
export const REFUSED_RETRY_AFTER_SECONDS = 1;

/** 503 (the Broker retries it), with Retry-After when the wait is known. */
function unavailable(res: EventResponse, text: string, retryAfterSeconds?: number): void {
  res.statusCode = 503;
  if (retryAfterSeconds !== undefined) res.setHeader('retry-after', String(retryAfterSeconds));
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(text);
}

/** One gate per process: the three functions of the combined service share it. */
let processGate: WorkGate | undefined;

/**
 * A handler whose dependencies are created once, on first use. The default transport is the
 * kubeconfig or in-cluster one behind this process's rate limiter (KUBE_QPS, KUBE_BURST,
 * KUBE_MAX_IN_FLIGHT; lib/kube/rate-limit.ts); a caller sharing one transport between
 * functions passes it limited already.
 */
export function lazyHandler(
  definition: FunctionDefinition,
  { transport = async () => limitTransport(await defaultTransport(), rateLimitsFromEnv(env)), log = createLogger(), env = process.env }: {
    transport?: () => Promise<KubeTransport>;
    log?: Logger;
    env?: NodeJS.ProcessEnv;
  } = {},
): Handler {
  let ready: Promise<Handler> | undefined;
  const settings = runtimeSettings(env);
  const build = async () =>
    makeStreamerFunction({
      resync: { concurrency: settings.resyncConcurrency, deadlineMs: settings.resyncDeadlineMs, pageSize: settings.resyncPageSize, namespaces: settings.streamerNamespaces, afterRolloutMs: settings.resyncAfterRolloutMs },
      ...definition,
      transport: await transport(),
      log,
    });
  return async (req, res) => {
    // func's probes must pass before (and without) any Kubernetes connection.
    if ((req.method === 'GET' || req.method === 'HEAD') && HEALTH_PATHS.includes(new URL(req.url ?? '/', 'http://localhost').pathname)) {
      res.statusCode = 200;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('ok');
      return;
    }
    ready ??= build().catch((error) => {
      ready = undefined; // try again on the next request
      throw error;
    });
    let handler: Handler;
    try {
      handler = await ready;
    } catch (error) {
      log({ function: definition.name, outcome: 'startup-failed', error: (error as Error).message });
      unavailable(res, `${definition.name} cannot reach Kubernetes: ${(error as Error).message}`);
      return;
    }
    processGate ??= createWorkGate(settings.eventsInFlight, { maxWaiting: settings.eventsWaiting });
    try {
      await processGate.run(() => handler(req, res));
    } catch (error) {
      if (!(error instanceof GateFullError)) throw error;
      // Nothing was started: the sender retries later (the Broker honours Retry-After).
      log({ function: definition.name, outcome: 'refused', status: 503, reason: error.code, error: { code: error.code, message: error.message } });
      unavailable(res, `${definition.name}: ${error.message}`, REFUSED_RETRY_AFTER_SECONDS);
    }
  };
}
