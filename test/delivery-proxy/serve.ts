// Stands in for nothing of Knative: it is the tests' own window onto delivery, the program of a
// `streamer-operator-test/delivery-proxy` Pod (run by the sealed cluster's process runner) that
// sits between Knative (the ksvc address the Triggers and dead-letter sinks resolve to) and the
// functions' Service. It forwards every request unchanged (method, path, headers — Authorization
// included — and body) and answers with the functions' answer, and appends one JSON line per
// delivery attempt to RECORD_FILE (a file in the run directory the host-side test reads): the
// path, the CloudEvent's id, type, kind and name, and the status. With DUPLICATE_MAX_DELAY_MS it
// is the chaos Knative cannot see: each request is forwarded after a random delay, and a second
// copy after another, so duplicates arrive and events overtake each other (Knative gets the
// first copy's answer).
//
//   UPSTREAM=http://svc RECORD_FILE=/run/deliveries.jsonl PORT=8080 node test/delivery-proxy/serve.ts
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';

const upstream = process.env.UPSTREAM ?? '';
const recordFile = process.env.RECORD_FILE ?? '';
const port = Number(process.env.PORT ?? 8080);
const maxDelayMs = Number(process.env.DUPLICATE_MAX_DELAY_MS ?? 0);
if (!upstream || !recordFile) {
  process.stderr.write('UPSTREAM and RECORD_FILE must be set\n');
  process.exit(1);
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);
const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

let inFlight = 0;
function record(fields: Record<string, unknown>) {
  appendFileSync(recordFile, `${JSON.stringify({ time: new Date().toISOString(), inFlight, ...fields })}\n`);
}

async function forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer, copy: number) {
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) sent[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const event = { path, id: header(headers, 'ce-id'), type: header(headers, 'ce-type'), kind: header(headers, 'ce-kind'), name: header(headers, 'ce-name'), copy };
  inFlight++;
  record({ phase: 'start', ...event });
  try {
    const response = await request(`${upstream}${path}`, { method: method as 'POST', headers: sent, body: body.length ? body : null, headersTimeout: 65_000, bodyTimeout: 65_000 });
    const answer = Buffer.from(await response.body.arrayBuffer());
    inFlight--;
    record({ phase: 'end', ...event, status: response.statusCode });
    return { status: response.statusCode, headers: response.headers, body: answer };
  } catch (error) {
    inFlight--;
    record({ phase: 'end', ...event, status: 'network-error', error: (error as Error).message });
    throw error;
  }
}

const delay = () => new Promise((resolve) => setTimeout(resolve, maxDelayMs ? Math.floor(Math.random() * maxDelayMs) : 0));

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    // Probes and anything not a delivery pass straight through, unrecorded.
    const delivery = method === 'POST';
    if (delivery && maxDelayMs > 0) void delay().then(() => forward(method, path, req.headers, body, 1)).catch(() => undefined);
    void (delivery ? delay() : Promise.resolve())
      .then(() => (delivery ? forward(method, path, req.headers, body, 0) : passThrough(method, path, req.headers)))
      .then((answer) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && typeof value === 'string') headers[name] = value;
        res.writeHead(answer.status, headers).end(answer.body);
      })
      .catch(() => res.writeHead(502).end());
  });
}).listen(port, '0.0.0.0', () => process.stdout.write(`${JSON.stringify({ outcome: 'delivery-proxy-listening', port, upstream })}\n`));

async function passThrough(method: string, path: string, headers: IncomingHttpHeaders) {
  const response = await request(`${upstream}${path}`, { method: method as 'GET', headers: { accept: header(headers, 'accept') ?? '*/*' } });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}
