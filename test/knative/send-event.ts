// A sender inside the sealed cluster network (run with cluster.sealed.run): POSTs one CloudEvent
// to a URL, optionally with a bearer token and padded to a size, and prints the status and the
// first line of the answer as JSON. What a Pod of another namespace could send with its own token.
// Usage: node send-event.ts <url> <ce-id> <bytes> [token]
const [url, id, bytes, token] = process.argv.slice(2) as [string, string, string, string | undefined];
const pad = Math.max(0, Number(bytes) - 40);
const body = JSON.stringify({ op: 'resync', pad: 'x'.repeat(pad) });
const headers: Record<string, string> = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': id,
  'ce-source': '/apis/v1/namespaces/intruder/pingsources/forged',
  'ce-type': 'dev.knative.sources.ping',
};
if (token) headers.authorization = `Bearer ${token}`;
try {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  console.log(JSON.stringify({ status: response.status, answer: text.split('\n')[0] }));
} catch (error) {
  console.log(JSON.stringify({ status: 0, answer: String((error as Error).cause ?? error) }));
}
