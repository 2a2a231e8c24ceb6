// startMediaDouble: listening where a kwok pod's media server would, credentials, recording,
// faults and a clean stop. Requests go through plain `fetch` on loopback.
import { request as httpRequest, Agent } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';

const API = '/streamer/api/v3';
const basic = (auth: string) => `Basic ${Buffer.from(auth).toString('base64')}`;
const bearer = (auth: string) => `Bearer ${Buffer.from(auth).toString('base64')}`;

async function call(double: MediaDouble, path: string, init: { method?: string; auth?: string; body?: string; type?: string; accept?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.auth !== undefined) headers.authorization = init.auth;
  if (init.type !== undefined) headers['content-type'] = init.type;
  if (init.accept !== undefined) headers.accept = init.accept;
  const response = await fetch(`${double.url}${API}${path}`, { method: init.method ?? 'GET', headers, body: init.body ?? null, signal: AbortSignal.timeout(5000) });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

// ---

const listen = suite('where the double listens');

listen('on a pod-like loopback IP and the API port 81', async () => {
  // A random 127.201.x.y keeps clear of addresses other tests (kwok pods) may use.
  const host = `127.201.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const double = await startMediaDouble({ host, port: 81, editAuth: 'flussonic:letmein' });
  try {
    assert.is(double.url, `http://${host}:81`);
    assert.is(double.host, host);
    assert.is(double.port, 81);
    assert.is((await call(double, '/config/stats', { auth: basic('flussonic:letmein') })).status, 200);
  } finally {
    await double.stop();
  }
});

listen('on 127.0.0.1 and a free port by default', async () => {
  const double = await startMediaDouble({ editAuth: 'a:b' });
  try {
    assert.is(double.host, '127.0.0.1');
    assert.ok(double.port > 0);
    assert.is((await call(double, '/monitoring/liveness')).status, 200);
  } finally {
    await double.stop();
  }
});

listen('refuses edit_auth that is not login:password', async () => {
  let failed = false;
  await startMediaDouble({ editAuth: 'no-colon' }).catch(() => (failed = true));
  assert.ok(failed);
});

listen.run();

// ---

const auth = suite('credentials');
let double: MediaDouble;
auth.before.each(async () => {
  double = await startMediaDouble({ editAuth: 'root:pw' });
});
auth.after.each(() => double.stop());

auth('Basic and Bearer with base64(login:password) are accepted; anything else is 403', async () => {
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 200);
  assert.is((await call(double, '/config/stats', { auth: bearer('root:pw') })).status, 200);
  for (const header of [undefined, basic('root:nope'), bearer('nobody:pw'), 'Digest abc', 'Basic']) {
    const answer = await call(double, '/config/stats', header === undefined ? {} : { auth: header });
    assert.is(answer.status, 403, String(header));
    assert.equal(JSON.parse(answer.text), { error: 'authorization_failed' });
  }
});

auth('probes answer without credentials', async () => {
  assert.is((await call(double, '/monitoring/liveness')).status, 200);
  assert.is((await call(double, '/monitoring/readiness', { auth: basic('x:y') })).status, 200);
});

auth('setEditAuth changes the accepted credentials', async () => {
  double.setEditAuth('root:new');
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 403);
  assert.is((await call(double, '/config/stats', { auth: basic('root:new') })).status, 200);
});

auth('an edit_auth in a saved config becomes the credentials', async () => {
  const saved = await call(double, '/config', { method: 'PUT', auth: basic('root:pw'), type: 'text/plain', body: 'edit_auth admin other;\nhttp 81;\n' });
  assert.is(saved.status, 200);
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 403);
  assert.is((await call(double, '/config/stats', { auth: basic('admin:other') })).status, 200);
});

auth('requests are recorded without the Authorization header', async () => {
  await call(double, '/config', { method: 'POST', auth: basic('root:pw'), type: 'text/plain', body: 'http 81;' });
  await call(double, '/config/stats', { auth: 'Digest x' });
  const [first, second] = double.received;
  assert.is(double.received.length, 2);
  assert.equal([first?.method, first?.path, first?.body, first?.authScheme, first?.authorized], ['POST', `${API}/config`, 'http 81;', 'basic', true]);
  assert.equal([second?.authScheme, second?.authorized], ['other', false]);
  for (const request of double.received) {
    assert.is(request.headers.authorization, undefined);
    assert.not.ok(JSON.stringify(request).includes(Buffer.from('root:pw').toString('base64')));
  }
});

auth.run();

// ---

const config = suite('the config endpoints');
config.before.each(async () => {
  double = await startMediaDouble({ editAuth: 'root:pw', initialConfig: 'http 81;\n' });
});
config.after.each(() => double.stop());

config('GET /config answers JSON, or the saved text with Accept: text/plain', async () => {
  const asJson = await call(double, '/config', { auth: basic('root:pw') });
  assert.equal(JSON.parse(asJson.text), { listeners: { http: [{ port: 81 }] } });
  const asText = await call(double, '/config', { auth: basic('root:pw'), accept: 'text/plain' });
  assert.match(String(asText.type), /^text\/plain/);
  assert.is(asText.text, 'http 81;\n');
});

config('a JSON PUT merges and re-renders the text; stats count the config version', async () => {
  const before = JSON.parse((await call(double, '/config/stats', { auth: basic('root:pw') })).text) as { config_version: number[] };
  const put = await call(double, '/config', { method: 'PUT', auth: basic('root:pw'), type: 'application/json', body: JSON.stringify({ loglevel: 'debug' }) });
  assert.is(put.status, 200);
  assert.equal(double.configJson, { listeners: { http: [{ port: 81 }] }, loglevel: 'debug' });
  assert.is(double.config, 'http 81;\nloglevel debug;\n');
  const after = JSON.parse((await call(double, '/config/stats', { auth: basic('root:pw') })).text) as { config_version: number[] };
  assert.is(after.config_version[1], (before.config_version[1] ?? 0) + 1);
});

config('other body types, unknown methods and paths are refused', async () => {
  assert.is((await call(double, '/config', { method: 'PUT', auth: basic('root:pw'), type: 'application/octet-stream', body: 'http 81;' })).status, 400);
  assert.is((await call(double, '/config', { method: 'DELETE', auth: basic('root:pw') })).status, 405);
  assert.is((await call(double, '/streams', { auth: basic('root:pw') })).status, 404);
  assert.is(double.config, 'http 81;\n');
});

config.run();

// ---

const faults = suite('faults');
faults.before.each(async () => {
  double = await startMediaDouble({ editAuth: 'root:pw' });
});
faults.after.each(() => double.stop());

faults('status: every matching request gets it; `path` and `times` narrow it', async () => {
  double.setFault({ kind: 'status', status: 500, path: '/config/stats', times: 2 });
  assert.is((await call(double, '/monitoring/liveness')).status, 200);
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 500);
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 500);
  assert.is((await call(double, '/config/stats', { auth: basic('root:pw') })).status, 200);
  assert.equal(double.received.map((r) => r.fault ?? '-'), ['-', 'status', 'status', '-']);
});

faults('slow: answers after the delay', async () => {
  double.setFault({ kind: 'slow', ms: 300 });
  const started = Date.now();
  assert.is((await call(double, '/monitoring/liveness')).status, 200);
  assert.ok(Date.now() - started >= 290);
});

faults('reset: the connection is destroyed without an answer', async () => {
  double.setFault({ kind: 'reset' });
  let failed = false;
  await call(double, '/monitoring/liveness').catch(() => (failed = true));
  assert.ok(failed);
  assert.is(double.received.length, 1);
});

faults('readiness-failing: 503 unavailable and stats say starting, until cleared', async () => {
  double.setFault({ kind: 'readiness-failing' });
  const failing = await call(double, '/monitoring/readiness');
  assert.is(failing.status, 503);
  assert.equal(JSON.parse(failing.text), { error: 'unavailable' });
  assert.match((await call(double, '/config/stats', { auth: basic('root:pw') })).text, '"streamer_status":"starting"');
  double.setFault(null);
  assert.is((await call(double, '/monitoring/readiness')).status, 200);
});

faults.run();

// ---

const stop = suite('stop');

stop('closes idle keep-alive connections and pending slow requests promptly', async () => {
  const target = await startMediaDouble({ editAuth: 'root:pw' });
  const agent = new Agent({ keepAlive: true });
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${target.url}${API}/monitoring/liveness`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  assert.is(await get(), 200); // leaves an idle keep-alive socket
  target.setFault({ kind: 'slow', ms: 30_000 });
  const pending = get().then(
    () => 'answered',
    () => 'closed',
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await target.stop();
  assert.ok(Date.now() - started < 1000, 'stop took too long');
  assert.is(await pending, 'closed');
  await target.stop(); // idempotent
  agent.destroy();
});

stop.run();
