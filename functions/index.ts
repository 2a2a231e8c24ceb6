// functions-framework entry point of the whole operator in one service:
// `functions-framework --target=streamer-operator`. Each function keeps its own
// path (the Triggers in knative/ address /reconcile-children, /push-config,
// /probe-status), /dead-letter logs events the Broker gave up on, and
// /health/* answers func's probes. Each function can also be deployed alone
// with its own target (see docs/install.md). Before any of it, the request guard
// (lib/runtime/request-guard.ts) authenticates the sender and bounds the body.
import { readFileSync } from 'node:fs';
import { http } from '@google-cloud/functions-framework';
import type { EventRequest, EventResponse } from '../lib/events/index.ts';
import type { KubeTransport } from '../lib/kube/client.ts';
import { defaultTransport } from '../lib/kube/config.ts';
import { limitTransport, rateLimitsFromEnv } from '../lib/kube/rate-limit.ts';
import { createLogger } from '../lib/runtime/log.ts';
import { guardOptionsFromEnv, SA_NAMESPACE_FILE } from '../lib/runtime/guard-settings.ts';
import { installRequestGuard } from '../lib/runtime/request-guard.ts';
import { lazyHandler, type Handler } from '../lib/runtime/register.ts';
import * as reconcileChildren from './reconcile-children/definition.ts';
import * as pushConfig from './push-config/definition.ts';
import * as probeStatus from './probe-status/definition.ts';

export const TARGET = 'streamer-operator';
const log = createLogger();
// One Kubernetes connection pool for the three functions of this process, made on first use,
// behind one rate limiter for the whole replica (lib/kube/rate-limit.ts).
let transport: Promise<KubeTransport> | undefined;
const sharedTransport = () => {
  transport ??= defaultTransport().then((t) => limitTransport(t, rateLimitsFromEnv())).catch((error) => {
    transport = undefined; // try again on the next request
    throw error;
  });
  return transport;
};

// functions-framework creates its server after loading this module: the guard goes in front of it.
const podNamespace = (() => {
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
})();
installRequestGuard(guardOptionsFromEnv({ transport: sharedTransport, log, namespace: podNamespace }));

const routes: Record<string, Handler> = {};
for (const fn of [reconcileChildren, pushConfig, probeStatus]) {
  const handler = lazyHandler(fn.definition, { log, transport: sharedTransport });
  routes[`/${fn.NAME}`] = handler;
  http(fn.NAME, handler);
}

export async function operator(req: EventRequest, res: EventResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path.startsWith('/health/')) {
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('ok');
    return;
  }
  if (path === '/dead-letter') {
    deadLetter(req);
    res.statusCode = 204;
    res.end();
    return;
  }
  const handler = routes[path.replace(/\/$/, '')];
  if (!handler) {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`no function at ${path}; try ${Object.keys(routes).join(', ')}`);
    return;
  }
  await handler(req, res);
}

/** Logs the identity of an event the Broker gave up on (never its data: it may be a Secret). */
function deadLetter(req: EventRequest): void {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : (value as string | undefined);
  };
  log({
    function: TARGET,
    outcome: 'dead-letter',
    eventId: header('ce-id'),
    eventType: header('ce-type'),
    subject: header('ce-subject'),
    errorDest: header('ce-knativeerrordest'),
    errorCode: header('ce-knativeerrorcode'),
  });
}

http(TARGET, operator);
