// The HTTP handler a function registers with `ff.http(name, makeEventHandler(deps))`. It parses
// the CloudEvent itself instead of using functions-framework's cloudevent signature, because
// that signature only routes POST, and `kn func` always adds GET /health/liveness and
// /health/readiness probes (knative.md §6.4).
import type { ObjectEvent, ResyncEvent } from './event-types.ts';
import { outcomeLabel, toHttpResponse, type EventOutcome } from './http-response.ts';
import { describeError } from './describe-error.ts';
import { parseEvent } from './parse-event.ts';
import { resolveStreamer, type ObjectReader, type StreamerTarget } from './resolve-streamer.ts';
import { adapterRolledOut, isDeploymentRef, RolloutMemo } from './source-rollout.ts';

/** Express-compatible request: method, path (or url), lower-case headers, body as parsed by express. */
export type EventRequest = {
  method?: string;
  path?: string;
  url?: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body?: unknown;
};

/** Satisfied by both Node's ServerResponse and express's Response. */
export type EventResponse = {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
};

/** One structured log line per request. Never holds event data or payload fields. */
export type EventLogLine = {
  function: string;
  eventId?: string;
  eventType?: string;
  /** `Kind namespace/name` of the object the event is about. */
  object?: string;
  /** `namespace/name` of the Streamer it mapped to. */
  streamer?: string;
  outcome: ReturnType<typeof outcomeLabel>;
  status: number;
  durationMs: number;
  reason?: string;
  error?: { code: string; message: string };
  /** What onObject returned. */
  result?: Record<string, unknown>;
};

export type EventHandlerDeps = {
  /** The function's name, for logs. */
  name: string;
  /** Reads current objects to map events to Streamers (see resolveStreamer). */
  reader: ObjectReader;
  /**
   * Work for one Streamer an event maps to. Throw to have the event redelivered. What it
   * returns (counts such as reads and writes, never payloads) goes into the log line.
   */
  onObject(target: StreamerTarget, event: ObjectEvent): Promise<Record<string, unknown> | void>;
  /** Work for a PingSource tick (e.g. runBounded over every Streamer). */
  onResync(event: ResyncEvent): Promise<void>;
  /**
   * Work when an event source's adapter has rolled out (source-rollout.ts): a resync after the
   * new adapter has had `settleMs` to list. @default onResync at once
   */
  onSourceRollout?(event: ObjectEvent): Promise<void>;
  log(line: EventLogLine): void;
  /** Milliseconds clock for durations. @default performance.now */
  now?: () => number;
};

export const HEALTH_PATHS: readonly string[] = ['/health/liveness', '/health/readiness'];

/**
 * POST (any path): parse, map to a Streamer, call onObject/onResync, answer per toHttpResponse
 * (204 on success, 400 malformed, 503 transient, 500 other). GET/HEAD on HEALTH_PATHS: 200.
 * Other GET/HEAD: 404; other methods: 405.
 */
export function makeEventHandler(deps: EventHandlerDeps): (req: EventRequest, res: EventResponse) => Promise<void> {
  const now = deps.now ?? (() => performance.now());
  const rollouts = new RolloutMemo();
  return async (req, res) => {
    const method = (req.method ?? 'POST').toUpperCase();
    if (method === 'GET' || method === 'HEAD') {
      const healthy = HEALTH_PATHS.includes(pathOf(req));
      send(res, { status: healthy ? 200 : 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: healthy ? 'ok' : 'not found' });
      return;
    }
    if (method !== 'POST') {
      send(res, { status: 405, headers: { allow: 'GET, HEAD, POST' } });
      return;
    }
    const started = now();
    const line: Omit<EventLogLine, 'outcome' | 'status' | 'durationMs'> = { function: deps.name };
    const outcome = await handleEvent(req, deps, line, rollouts);
    const response = toHttpResponse(outcome);
    send(res, response);
    deps.log({
      ...line,
      outcome: outcomeLabel(outcome),
      status: response.status,
      durationMs: Math.round((now() - started) * 10) / 10,
      ...(outcome.kind === 'ignored' ? { reason: outcome.reason } : {}),
      ...(outcome.kind === 'failed' ? { error: describeError(outcome.error) } : {}),
    });
  };
}

/** Runs one event; fills the log line's identity fields as they become known. */
async function handleEvent(
  req: EventRequest,
  deps: EventHandlerDeps,
  line: Omit<EventLogLine, 'outcome' | 'status' | 'durationMs'>,
  rollouts: RolloutMemo,
): Promise<EventOutcome> {
  try {
    const event = parseEvent({ headers: req.headers, body: req.body });
    line.eventId = event.id;
    line.eventType = event.type;
    if (event.kind === 'ignored') return { kind: 'ignored', reason: event.reason };
    if (event.kind === 'resync') {
      await deps.onResync(event);
      return { kind: 'done' };
    }
    line.object = `${event.ref.kind} ${event.ref.namespace}/${event.ref.name}`;
    if (isDeploymentRef(event.ref)) {
      // Reference mode: read the adapter's Deployment now (a 403 outside our namespace is permanent).
      const deployment = await deps.reader.get(event.ref);
      if (!adapterRolledOut(deployment)) return { kind: 'ignored', reason: 'not an event source adapter that has rolled out' };
      if (!rollouts.first(deployment)) return { kind: 'ignored', reason: 'already resynced for this rollout' };
      await (deps.onSourceRollout ?? ((e: ObjectEvent) => deps.onResync({ kind: 'resync', id: e.id, type: e.type })))(event);
      return { kind: 'done' };
    }
    const target = await resolveStreamer(event, deps.reader);
    if (!target) return { kind: 'unrelated' };
    line.streamer = `${target.namespace}/${target.name}`;
    const result = await deps.onObject(target, event);
    if (result) line.result = result;
    return { kind: 'done' };
  } catch (error) {
    return { kind: 'failed', error };
  }
}

function pathOf(req: EventRequest): string {
  if (req.path) return req.path;
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}

function send(res: EventResponse, response: { status: number; headers: Record<string, string>; body?: string }): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(response.body);
}
