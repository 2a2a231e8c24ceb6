// A function definition served as Knative serves it (functions-framework's
// server, on loopback) against the test cluster, with its log lines captured.
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { lazyHandler, type FunctionDefinition } from '../../lib/runtime/register.ts';
import type { Cluster } from '../cluster/index.ts';
import type { Message } from '../events/fixtures.ts';

export type ServedFunction = {
  logs: Record<string, unknown>[];
  /** POSTs a CloudEvent; returns the status and the log line it produced. */
  post(message: Message): Promise<{ status: number; log: Record<string, unknown> | undefined }>;
  close(): Promise<void>;
};

let served = 0;

/** Serves `definition` with its runtime settings read from `env`. */
export async function serveDefinition(cluster: Pick<Cluster, 'kubeconfig'>, definition: FunctionDefinition, env: NodeJS.ProcessEnv = process.env): Promise<ServedFunction> {
  const logs: Record<string, unknown>[] = [];
  const target = `${definition.name}-under-test-${++served}`;
  ff.http(target, lazyHandler(definition, { transport: () => transportFromKubeconfig(cluster.kubeconfig), log: (line) => logs.push(line), env }));
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    logs,
    async post(message) {
      const response = await fetch(`${base}/`, { method: 'POST', headers: message.headers, body: String(message.body), signal: AbortSignal.timeout(20_000) });
      await response.text();
      return { status: response.status, log: logs.at(-1) };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
