// A local stand-in for the Knative Broker: accepts CloudEvents from the
// sources (answering 202 like the Broker's ingress), routes them by the Triggers
// read from knative/ with Knative's own filter code (options.route), and delivers
// each to the subscribing function with the Trigger's retry and exponential
// backoff. Retries on what Knative retries (5xx, 404, 408, 409, 429, network);
// gives up with a dead-letter log line. Bounded: every delivery ends.
import { createServer, type Server } from 'node:http';
import { HTTP } from 'cloudevents';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { eventAttributes } from '../knative/trigger-filter.ts';

export type TriggerLike = {
  metadata: { name: string };
  spec: {
    subscriber?: { uri?: string };
    delivery?: { retry?: number; backoffPolicy?: 'linear' | 'exponential'; backoffDelay?: string };
  };
};

export type Delivery = {
  trigger: string;
  target: string;
  eventId: string;
  eventType: string;
  kind?: string;
  name?: string;
  status: number | 'network-error';
  attempts: number;
  deadLettered: boolean;
};

export type Broker = {
  url: string;
  /** Every finished delivery, in order. */
  readonly deliveries: Delivery[];
  /** Resolves once no delivery is in flight (bounded by timeoutMs). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

export type BrokerOptions = {
  triggers: TriggerLike[];
  /** Names of the Triggers an event with these attributes passes (test/knative/trigger-filter.ts). */
  route(attributes: Record<string, string>): Promise<readonly string[]>;
  /**
   * The URL a Trigger's subscriber resolves to, or undefined to skip it. Several URLs stand for
   * a scaled-out Service: each delivery attempt goes to one of them at random, as Knative's load
   * balancing would send it to any replica.
   */
  resolve(trigger: TriggerLike): string | readonly string[] | undefined;
  log?: (fields: Record<string, unknown>) => void;
  /** Cap on each backoff wait, so tests stay fast. @default 5000 */
  maxBackoffMs?: number;
  /**
   * Chaos for tests: deliver every event twice, each copy after its own random delay in
   * [0, maxDelayMs), so duplicates arrive and events overtake each other.
   */
  duplicateAndShuffle?: { maxDelayMs: number; random?: () => number };
};

/** ISO-8601 durations as Knative's backoffDelay uses them: PT0.2S, PT1M, PT1.5S. */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  const match = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(text ?? '');
  if (!match) return fallbackMs;
  const [, h = '0', m = '0', s = '0'] = match;
  return Math.round((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000);
}

const RETRYABLE = (status: number) => status >= 500 || [404, 408, 409, 429].includes(status);

export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const log = options.log ?? (() => undefined);
  const deliveries: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();

  const pick = (targets: readonly string[]) => targets[Math.floor(Math.random() * targets.length)] as string;

  async function deliver(trigger: TriggerLike, targets: readonly string[], headers: Record<string, string>, body: string, attributes: Record<string, string>) {
    const retries = trigger.spec.delivery?.retry ?? 0;
    const base = parseDuration(trigger.spec.delivery?.backoffDelay, 200);
    const exponential = trigger.spec.delivery?.backoffPolicy !== 'linear';
    let status: number | 'network-error' = 'network-error';
    let attempts = 0;
    let target = pick(targets);
    for (let attempt = 0; attempt <= retries; attempt++) {
      attempts++;
      target = pick(targets);
      try {
        const response = await request(target, { method: 'POST', headers, body, headersTimeout: 60_000, bodyTimeout: 60_000 });
        await response.body.dump();
        status = response.statusCode;
        if (status >= 200 && status < 300) break;
        if (!RETRYABLE(status)) break;
      } catch {
        status = 'network-error';
      }
      if (attempt < retries) {
        const wait = exponential ? base * 2 ** attempt : base * (attempt + 1);
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, options.maxBackoffMs ?? 5_000)));
      }
    }
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    const record: Delivery = {
      trigger: trigger.metadata.name, target,
      eventId: attributes.id ?? '', eventType: attributes.type ?? '', kind: attributes.kind, name: attributes.name,
      status, attempts, deadLettered: !ok,
    };
    deliveries.push(record);
    if (!ok) log({ function: 'broker', outcome: 'dead-letter', ...record });
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let attributes: Record<string, string>;
      try {
        // Binary or structured, as the Broker's ingress accepts; then what a filter sees.
        const event = HTTP.toEvent({ headers: req.headers, body });
        attributes = eventAttributes((Array.isArray(event) ? event[0] : event) as unknown as Record<string, unknown>);
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(202).end();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && (name.startsWith('ce-') || name === 'content-type')) headers[name] = value;
      }
      const fanOut = (names: readonly string[]) => {
        for (const trigger of options.triggers) {
          if (!names.includes(trigger.metadata.name)) continue;
          const resolved = options.resolve(trigger);
          if (!resolved || resolved.length === 0) continue;
          const targets = typeof resolved === 'string' ? [resolved] : resolved;
          const chaos = options.duplicateAndShuffle;
          const copies = chaos ? 2 : 1;
          for (let copy = 0; copy < copies; copy++) {
            const delay = chaos ? Math.floor((chaos.random ?? Math.random)() * chaos.maxDelayMs) : 0;
            const job = (delay ? new Promise((r) => setTimeout(r, delay)) : Promise.resolve())
              .then(() => deliver(trigger, targets, headers, body, attributes))
              .finally(() => inFlight.delete(job));
            inFlight.add(job);
          }
        }
      };
      const routed: Promise<void> = options.route(attributes)
        .then(fanOut, (error: Error) => log({ function: 'broker', outcome: 'route-failed', message: error.message }))
        .finally(() => inFlight.delete(routed));
      inFlight.add(routed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    deliveries,
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (inFlight.size > 0 && Date.now() < deadline) await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 100))]);
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.allSettled([...inFlight]);
    },
  };
}
