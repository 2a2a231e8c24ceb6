// Stands in for a Pod of the sealed cluster sending one HTTP request: the host never dials the
// sealed network, so the request is made by a short Node process started inside the cluster's
// network namespace (its routes and kube-proxy's DNAT apply; it has no cluster DNS, so address
// Services by ClusterIP). Used for the resync tick and hand-sent events to the Broker's ingress
// (real-knative.ts) and for forged senders (test/knative/authenticated-delivery.test.ts).
//
// As a program (run inside the namespace by sendInside): reads `{ url, headers, body, timeoutMs }`
// as JSON on stdin, POSTs it, prints `{ status, answer }` (answer = the first line of the body;
// status 0 and the cause when the request failed).
import { execFile } from 'node:child_process';
import type { SealedNetwork } from '../cluster/netns.ts';

export type InsideRequest = { url: string; headers: Record<string, string>; body: string; timeoutMs?: number };
export type InsideAnswer = { status: number; answer: string };

const program = new URL(import.meta.url).pathname;

/** POSTs `request` from inside the sealed network; resolves with the answer (never throws on a status). */
export function sendInside(net: Pick<SealedNetwork, 'exec'>, request: InsideRequest): Promise<InsideAnswer> {
  const timeoutMs = request.timeoutMs ?? 20_000;
  const [command, args] = net.exec(process.execPath, [program]);
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: timeoutMs + 10_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"status"'));
      if (line) resolve(JSON.parse(line) as InsideAnswer);
      else reject(new Error(`sender in the sealed network printed no status: ${error?.message ?? ''} ${stderr.trim()}`));
    });
    child.stdin?.end(JSON.stringify({ ...request, timeoutMs }));
  });
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Required<InsideRequest>;
  try {
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(request.timeoutMs) });
    const text = await response.text();
    console.log(JSON.stringify({ status: response.status, answer: text.split('\n')[0] }));
  } catch (error) {
    console.log(JSON.stringify({ status: 0, answer: String((error as Error).cause ?? error) }));
  }
}

if (import.meta.main) await main();
