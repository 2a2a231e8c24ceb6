// Stands in for nothing: it is Knative Eventing's own Trigger filtering and Trigger validation,
// compiled from the pinned module (test/cluster/tools/eventing/trigger-filter: the MT broker
// filter handler's filterEvent and the webhook's Trigger.Validate), run as one process serving
// line-delimited JSON requests. For the tests that check which function an event reaches
// without starting a Broker; the real Broker's routing is proven by test/knative/real-eventing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildTriggerFilter } from '../cluster/binaries.ts';
import type { Manifest } from './manifests.ts';

export type TriggerRouter = {
  /** Names of the Triggers an event with these attributes passes, per event. */
  route(events: readonly Readonly<Record<string, string>>[]): Promise<string[][]>;
  /** What Knative's webhook says of each Trigger it would refuse (empty when it admits all). */
  invalid(): Promise<Record<string, string>>;
  stop(): void;
};

type Answer = { matches?: string[][]; invalid?: Record<string, string>; error?: string };

/** Starts Knative's filter for these Trigger objects (as `kubectl kustomize` renders them). */
export async function startTriggerRouter(triggers: readonly Manifest[]): Promise<TriggerRouter> {
  const binary = await buildTriggerFilter();
  const child: ChildProcessWithoutNullStreams = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // Requests are answered in order, one line each; chaining keeps them from interleaving.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (events: readonly Readonly<Record<string, string>>[]): Promise<Answer> => {
    const next = queue.then(async () => {
      child.stdin.write(`${JSON.stringify({ triggers, events })}\n`);
      const line = await lines.next();
      if (line.done) throw new Error(`trigger-filter exited: ${stderr.trim()}`);
      const answer = JSON.parse(line.value) as Answer;
      if (answer.error) throw new Error(`trigger-filter: ${answer.error}`);
      return answer;
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    async route(events) {
      return (await ask(events)).matches ?? [];
    },
    async invalid() {
      return (await ask([])).invalid ?? {};
    },
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

/** The path a Trigger's subscriber URI names (`/reconcile-children`), `/` when it has none. */
export function subscriberPath(trigger: Manifest): string {
  const uri = (trigger as { spec?: { subscriber?: { uri?: string } } }).spec?.subscriber?.uri;
  return uri ? new URL(uri, 'http://subscriber.invalid').pathname : '/';
}

/**
 * The attributes a filter sees, from a CloudEvent in its JSON form (or a `cloudevents`
 * CloudEvent): every attribute and extension as a string, without `data`/`data_base64`.
 */
export function eventAttributes(event: Readonly<Record<string, unknown>>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || value === undefined || value === null) continue;
    attributes[name.toLowerCase()] = value instanceof Date ? value.toISOString() : String(value);
  }
  return attributes;
}
