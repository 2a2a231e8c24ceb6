// saveConfig against the media-server double on a loopback "pod IP" and the real API port:
// validate first, save only a valid text, and map every outcome to StreamerConfigSaved.
import { randomInt } from 'node:crypto';
import { Agent } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { saveConfig } from '../../lib/push-config/save.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';

const EDIT_AUTH = 'admin:s3cret-pass';
// Outside kwok's 127.100.0.0/16, so no Pod of a parallel test can hold it.
const podIP = `127.101.${randomInt(0, 255)}.${randomInt(1, 255)}`;
let media: { dispatcher: Agent; timeoutMs: number; retries: number };
const VALID = 'http 81;\nloglevel info;\n';

const save = suite('saveConfig');
let double: MediaDouble;

save.before.each(async () => {
  // A fresh connection pool per test: no keep-alive socket to the previous test's double.
  media = { dispatcher: new Agent(), timeoutMs: 1000, retries: 0 };
  double = await startMediaDouble({ host: podIP, port: API_PORT, editAuth: EDIT_AUTH, initialConfig: 'http 81;\n' });
});
save.after.each(async () => {
  await double.stop();
  await media.dispatcher.close();
});

save('a valid text: validated (POST), then saved (PUT) → True/ConfigSaved', async () => {
  const result = await saveConfig({ text: VALID, podIP, editAuth: EDIT_AUTH, media });
  assert.equal(result, { status: 'True', reason: 'ConfigSaved', message: 'Configuration saved (HTTP 200)' });
  assert.equal(double.received.map((r) => `${r.method} ${r.path}`), ['POST /streamer/api/v3/config', 'PUT /streamer/api/v3/config']);
  assert.is(double.config, VALID);
});

save('an invalid text → False/ConfigInvalid with line and column, and nothing saved', async () => {
  const result = await saveConfig({ text: 'http 81;\nauth_backend x {\n}\n}\n', podIP, editAuth: EDIT_AUTH, media });
  assert.is(result.status, 'False');
  assert.is(result.reason, 'ConfigInvalid');
  assert.match(result.message, /unbalanced_brace at line 4, column 1/);
  assert.equal(double.received.map((r) => r.method), ['POST'], 'no PUT after a failed validation');
  assert.is(double.config, 'http 81;\n');
});

save('wrong credentials → False/Forbidden (403), and the password is in no message', async () => {
  const result = await saveConfig({ text: VALID, podIP, editAuth: 'admin:wrong-password', media });
  assert.is(result.status, 'False');
  assert.is(result.reason, 'Forbidden');
  assert.match(result.message, /403/);
  assert.not.match(result.message, /wrong-password|s3cret/);
});

save('a 500 from the server → Unknown/ServerError', async () => {
  double.setFault({ kind: 'status', status: 500, path: '/config' });
  const result = await saveConfig({ text: VALID, podIP, editAuth: EDIT_AUTH, media });
  assert.equal([result.status, result.reason], ['Unknown', 'ServerError']);
});

save('a server that is down → Unknown/Unreachable', async () => {
  await double.stop();
  const result = await saveConfig({ text: VALID, podIP, editAuth: EDIT_AUTH, media });
  assert.equal([result.status, result.reason], ['Unknown', 'Unreachable']);
});

save('a reset connection → Unknown/Unreachable', async () => {
  double.setFault({ kind: 'reset', path: '/config' });
  const result = await saveConfig({ text: VALID, podIP, editAuth: EDIT_AUTH, media });
  assert.equal([result.status, result.reason], ['Unknown', 'Unreachable']);
});

save('a server slower than the deadline → Unknown/Timeout', async () => {
  double.setFault({ kind: 'slow', ms: 2000, path: '/config' });
  const result = await saveConfig({ text: VALID, podIP, editAuth: EDIT_AUTH, media: { ...media, timeoutMs: 200 } });
  assert.equal([result.status, result.reason], ['Unknown', 'Timeout']);
});

save('edit_auth that is not login:password → Unknown/EditAuthInvalid, no request, value not echoed', async () => {
  const result = await saveConfig({ text: VALID, podIP, editAuth: 'no-colon-secret', media });
  assert.equal([result.status, result.reason], ['Unknown', 'EditAuthInvalid']);
  assert.not.match(result.message, /no-colon-secret/);
  assert.is(double.received.length, 0);
});

save.run();
