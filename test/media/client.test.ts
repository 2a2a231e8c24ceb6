// createMediaClient against the media-server double on loopback (and two tiny raw servers
// for answers the double never gives).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createMediaClient, type MediaClientOptions } from '../../lib/media/client.ts';
import {
  EditAuthFormatError,
  MediaServerNetworkError,
  MediaServerResponseError,
  MediaServerSchemaError,
  MediaServerTimeoutError,
} from '../../lib/media/errors.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';

const EDIT_AUTH = 'root:Pa55-w0rd';
const TOKEN = Buffer.from(EDIT_AUTH).toString('base64');
const CONFIG = 'http 80 { api false; }\nhttp 81;\nstream cam { input udp://239.0.0.1:1234; }\n';

let double: MediaDouble;
const client = (options: Partial<MediaClientOptions> = {}) =>
  createMediaClient({ baseUrl: double.url, auth: EDIT_AUTH, timeoutMs: 500, retries: 2, retryDelayMs: 20, ...options });

/** Runs `work`, which must reject, and returns what it threw. */
async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new assert.Assertion({ message: 'expected a rejection', generated: false, operator: 'rejects', expects: 'rejection', actual: 'resolved' });
}

function reset() {
  double.setFault(null);
  double.setEditAuth(EDIT_AUTH);
  double.received.length = 0;
}

// ---

const save = suite('saveConfig and validateConfig');
save.before.each(async () => {
  double = await startMediaDouble({ editAuth: EDIT_AUTH, initialConfig: 'http 81;\n' });
});
save.after.each(() => double.stop());

save('saves the text with PUT /config as text/plain and Basic edit_auth', async () => {
  const saved = await client().saveConfig(CONFIG);
  assert.equal(saved.listeners, { http: [{ port: 80, api: false }, { port: 81 }] });
  assert.is(double.config, CONFIG);
  const [request] = double.received;
  assert.is(request?.method, 'PUT');
  assert.is(request?.path, '/streamer/api/v3/config');
  assert.match(String(request?.headers['content-type']), /^text\/plain/);
  assert.is(request?.body, CONFIG);
  assert.is(request?.authScheme, 'basic');
  assert.ok(request?.authorized);
});

save('validates with POST /config without saving', async () => {
  const parsed = await client().validateConfig(CONFIG);
  assert.equal(parsed.streams, [{ name: 'cam', inputs: [{ url: 'udp://239.0.0.1:1234' }] }]);
  assert.is(double.config, 'http 81;\n');
  assert.is(double.received[0]?.method, 'POST');
});

save('a wrong password is a 403 response error, not retried', async () => {
  const error = await rejection(() => client({ auth: 'root:wrong' }).saveConfig(CONFIG));
  assert.instance(error, MediaServerResponseError);
  const response = error as MediaServerResponseError;
  assert.is(response.statusCode, 403);
  assert.is(response.errorCode, 'authorization_failed');
  assert.is(response.attempts, 1);
  assert.is(double.received.length, 1);
  assert.is(double.config, 'http 81;\n');
});

save('an invalid config is a 400 with the line and column of the problem', async () => {
  const cases = [
    { text: 'http 81;\nstream a {\n  input udp://x:1;\n', error: 'unclosed_block', line: 2, col: 10 },
    { text: 'http 81;\ninvalid_directive!\n', error: 'bad_directive', line: 2, col: 1 },
    { text: 'http 80; stream mystream { input ""; }', error: 'bad_url', line: 1, col: 34 },
  ];
  for (const { text, error: atom, line, col } of cases) {
    for (const call of [client().saveConfig, client().validateConfig]) {
      const error = (await rejection(() => call(text))) as MediaServerResponseError;
      assert.instance(error, MediaServerResponseError);
      assert.is(error.statusCode, 400);
      assert.is(error.configError?.error, atom);
      assert.is(error.configError?.line, line);
      assert.is(error.configError?.col, col);
      assert.match(error.message, `${atom} at line ${line}, column ${col}`);
    }
  }
  assert.is(double.config, 'http 81;\n');
  assert.is(double.received.length, 6, 'a 400 is never retried');
});

save.run();

// ---

const failures = suite('failures are bounded and typed');
failures.before(async () => {
  double = await startMediaDouble({ editAuth: EDIT_AUTH });
});
failures.before.each(reset);
failures.after(() => double.stop());

failures('a 500 is retried `retries` times, then thrown as a response error', async () => {
  double.setFault({ kind: 'status', status: 500 });
  const error = (await rejection(() => client({ retries: 2 }).saveConfig(CONFIG))) as MediaServerResponseError;
  assert.instance(error, MediaServerResponseError);
  assert.is(error.statusCode, 500);
  assert.is(error.attempts, 3);
  assert.is(double.received.length, 3);
  double.received.length = 0;
  await rejection(() => client({ retries: 0 }).configStats());
  assert.is(double.received.length, 1);
});

failures('a passing 5xx is absorbed by a retry', async () => {
  double.setFault({ kind: 'status', status: 503, times: 1 });
  const stats = await client().configStats();
  assert.is(stats.streamer_status, 'running');
  assert.is(double.received.length, 2);
});

failures('a slow server is a timeout error within the bound', async () => {
  double.setFault({ kind: 'slow', ms: 10_000 });
  const started = Date.now();
  const error = (await rejection(() => client({ timeoutMs: 200, retries: 1, retryDelayMs: 20 }).saveConfig(CONFIG))) as MediaServerTimeoutError;
  const elapsed = Date.now() - started;
  assert.instance(error, MediaServerTimeoutError);
  assert.is(error.timeoutMs, 200);
  assert.is(error.attempts, 2);
  assert.ok(elapsed >= 400 && elapsed < 1500, `took ${elapsed} ms`);
  assert.is(double.received.length, 2);
});

failures('a reset connection is a network error, retried a bounded number of times', async () => {
  double.setFault({ kind: 'reset' });
  const error = (await rejection(() => client({ retries: 2 }).liveness())) as MediaServerNetworkError;
  assert.instance(error, MediaServerNetworkError);
  assert.type(error.causeCode, 'string');
  assert.ok(error.cause !== undefined);
  assert.is(double.received.length, 3);
});

failures('a refused connection is a network error', async () => {
  const gone = await startMediaDouble({ editAuth: EDIT_AUTH });
  await gone.stop();
  const error = (await rejection(() => createMediaClient({ baseUrl: gone.url, auth: EDIT_AUTH, retries: 1, retryDelayMs: 10 }).readiness())) as MediaServerNetworkError;
  assert.instance(error, MediaServerNetworkError);
  assert.is(error.causeCode, 'ECONNREFUSED');
  assert.is(error.attempts, 2);
});

failures('readiness failing is a 503; liveness still answers', async () => {
  double.setFault({ kind: 'readiness-failing' });
  const error = (await rejection(() => client({ retries: 0 }).readiness())) as MediaServerResponseError;
  assert.is(error.statusCode, 503);
  assert.is(error.errorCode, 'unavailable');
  assert.type((await client().liveness()).now, 'number');
  assert.is((await client().configStats()).streamer_status, 'starting');
});

failures('no error carries the password or the Authorization header', async () => {
  const secret = 'Sup3r-Secr3t';
  const auth = `root:${secret}`;
  double.setEditAuth(auth);
  const errors: unknown[] = [];
  const c = client({ auth, retries: 1, timeoutMs: 150 });
  errors.push(await rejection(() => client({ auth: `root:${secret}x` }).saveConfig(CONFIG)));
  // The 400 body echoes the partial config, including this edit_auth.
  errors.push(await rejection(() => c.saveConfig(`edit_auth root ${secret};\nstream a { input ""; }\n`)));
  double.setFault({ kind: 'status', status: 500 });
  errors.push(await rejection(() => c.saveConfig(CONFIG)));
  double.setFault({ kind: 'slow', ms: 5000 });
  errors.push(await rejection(() => c.saveConfig(CONFIG)));
  double.setFault({ kind: 'reset' });
  errors.push(await rejection(() => c.saveConfig(CONFIG)));
  assert.is(errors.length, 5);
  const token = Buffer.from(auth).toString('base64');
  for (const error of errors) {
    const text = `${String(error)}\n${JSON.stringify(error)}\n${inspect(error, { depth: 8, showHidden: true })}`;
    assert.not.ok(text.includes(secret), `password leaked: ${text}`);
    assert.not.ok(text.includes(token), `token leaked: ${text}`);
    assert.not.ok(text.includes(TOKEN), `token leaked: ${text}`);
    assert.not.match(text, /authorization:/i);
  }
});

failures.run();

// ---

const bodies = suite('answers that are not what the spec promises');
let raw: Server;
let rawUrl = '';
let rawBody = '';
bodies.before(async () => {
  raw = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(rawBody));
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
});
bodies.after(() => new Promise<void>((resolve) => {
  raw.close(() => resolve());
  raw.closeAllConnections();
}));

bodies('a 200 that is not JSON is a schema error', async () => {
  rawBody = '<html>proxy</html>';
  const error = (await rejection(() => createMediaClient({ baseUrl: rawUrl, auth: EDIT_AUTH }).liveness())) as MediaServerSchemaError;
  assert.instance(error, MediaServerSchemaError);
  assert.is(error.statusCode, 200);
  assert.is(error.attempts, 1);
});

bodies('a 200 whose fields have the wrong types is a schema error with issues', async () => {
  rawBody = JSON.stringify({ now: 'later', server_version: '23.04' });
  const error = (await rejection(() => createMediaClient({ baseUrl: rawUrl, auth: EDIT_AUTH }).readiness())) as MediaServerSchemaError;
  assert.instance(error, MediaServerSchemaError);
  assert.equal(error.issues[0]?.path, ['now']);
});

bodies('unknown fields are kept (tolerant reader)', async () => {
  rawBody = JSON.stringify({ now: 1, future_field: { a: 1 } });
  const whoami = await createMediaClient({ baseUrl: rawUrl, auth: EDIT_AUTH }).liveness();
  assert.equal(whoami, { now: 1, future_field: { a: 1 } });
});

bodies.run();

// ---

const options = suite('createMediaClient options');

options('rejects edit_auth that is not login:password, without echoing it', () => {
  for (const auth of ['nocolonvalue', ':pwvalue', 'loginvalue:', '', { login: 'a:b', password: 'x' }, { login: 'a', password: '' }]) {
    try {
      createMediaClient({ baseUrl: 'http://127.0.0.1:1', auth });
      assert.unreachable(`accepted ${JSON.stringify(auth)}`);
    } catch (error) {
      assert.instance(error, EditAuthFormatError);
      assert.is((error as EditAuthFormatError).code, 'EDIT_AUTH_INVALID');
      if (typeof auth === 'string' && auth !== '') assert.not.ok((error as Error).message.includes(auth));
    }
  }
});

options('accepts the pair form and sends the same Basic header', async () => {
  double = await startMediaDouble({ editAuth: EDIT_AUTH });
  try {
    await createMediaClient({ baseUrl: `${double.url}/`, auth: { login: 'root', password: 'Pa55-w0rd' } }).configStats();
    assert.ok(double.received[0]?.authorized);
    assert.is(double.received[0]?.path, '/streamer/api/v3/config/stats');
  } finally {
    await double.stop();
  }
});

options.run();
