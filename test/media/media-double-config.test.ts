// The double's config text checks (parseConfigText) and JSON handling (applyConfigJson,
// renderConfigText): what it accepts, what it rejects and where it says the problem is.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyConfigJson, renderConfigText } from '../media-double/config-json.ts';
import { parseConfigText } from '../media-double/config-text.ts';

function rejects(text: string, error: string, line: number, col: number) {
  const result = parseConfigText(text);
  assert.not.ok(result.ok, `accepted: ${JSON.stringify(text)}`);
  if (!result.ok) assert.equal([result.error.error, result.error.line, result.error.col], [error, line, col], JSON.stringify(text));
}

// ---

const accepts = suite('parseConfigText accepts');

accepts('the old operator k8s.conf, comments, quoted values and unknown directives', () => {
  const result = parseConfigText('# generated\nhttp 80 {api false;} http 81;\nrtmp 0.0.0.0:1935;\nwhatever_else "a b" c; # trailing\ndvr main { root /storage; }\n');
  assert.ok(result.ok);
  if (result.ok) {
    assert.equal(result.config, { listeners: { http: [{ port: 80, api: false }, { port: 81 }], rtmp: [{ port: 1935, address: '0.0.0.0' }] } });
  }
});

accepts('edit_auth, cluster_key, loglevel, config_external and streams', () => {
  const result = parseConfigText(
    'edit_auth root pa:ss;\ncluster_key K3y;\nloglevel debug;\nconfig_external http://c/streamer/api/v3/streamers;\nstream s1 {\n  input publish://;\n  input udp://239.0.0.1:1234;\n}\n',
  );
  assert.ok(result.ok);
  if (result.ok) {
    assert.equal(result.config, {
      edit_auth: { login: 'root', password: 'pa:ss' },
      cluster_key: 'K3y',
      loglevel: 'debug',
      config_external: 'http://c/streamer/api/v3/streamers',
      streams: [{ name: 's1', inputs: [{ url: 'publish://' }, { url: 'udp://239.0.0.1:1234' }] }],
    });
  }
});

accepts('an empty config and CRLF line ends', () => {
  assert.equal(parseConfigText(''), { ok: true, config: {} });
  assert.ok(parseConfigText('http 81;\r\nrtmp 1935;\r\n').ok);
});

accepts.run();

// ---

const rejections = suite('parseConfigText rejects, with line and column');

rejections('unbalanced braces', () => {
  rejects('http 81;\nstream a {\n  input udp://x:1;\n', 'unclosed_block', 2, 10);
  rejects('http 81;\n}\n', 'unbalanced_brace', 2, 1);
  rejects('stream a { input udp://x:1; } }', 'unbalanced_brace', 1, 31);
});

rejections('a statement without its semicolon', () => {
  rejects('http 81', 'missing_semicolon', 1, 8);
  rejects('http 81\nrtmp 1935;', 'missing_semicolon', 1, 8);
  rejects('http 80 { api false }', 'missing_semicolon', 1, 20);
});

rejections('a bad directive name', () => {
  rejects('http 81;\ninvalid_directive!\n', 'bad_directive', 2, 1);
  rejects('  "quoted" x;', 'bad_directive', 1, 3);
  rejects('{ x; }', 'unexpected_block', 1, 1);
  rejects('x "open;', 'unterminated_string', 1, 3);
});

rejections('bad values of the modelled directives', () => {
  rejects('http 80; stream mystream { input ""; }', 'bad_url', 1, 34); // the spec's own example
  rejects('http 70000;', 'bad_port', 1, 6);
  rejects('http;', 'bad_port', 1, 5);
  rejects('http 80 { api maybe; }', 'bad_value', 1, 15);
  rejects('edit_auth onlylogin;', 'bad_auth', 1, 1);
  rejects('loglevel warn;', 'bad_loglevel', 1, 10);
  rejects('cluster_key a b;', 'bad_value', 1, 15);
  rejects('stream { input udp://x:1; }', 'bad_stream', 1, 1);
});

rejections('the 400 body carries the path and the partial config, like the server', () => {
  const result = parseConfigText('http 80; stream mystream { input ""; }');
  assert.not.ok(result.ok);
  if (!result.ok) {
    assert.equal(result.error.path, ['streams', 0, 'inputs', 0, 'url', 'input_url']);
    assert.equal(result.error.config, { listeners: { http: [{ port: 80 }] }, streams: [{ name: 'mystream', inputs: [{ url: '' }] }] });
  }
});

rejections.run();

// ---

const jsonBodies = suite('applyConfigJson and renderConfigText');

jsonBodies('a JSON save merges top-level keys and null deletes', () => {
  const current = { loglevel: 'info', cluster_key: 'old' };
  const result = applyConfigJson(current, { cluster_key: null, edit_auth: { login: 'a', password: 'b' } }, true);
  assert.equal(result, { ok: true, config: { loglevel: 'info', edit_auth: { login: 'a', password: 'b' } } });
  assert.equal(current, { loglevel: 'info', cluster_key: 'old' }, 'input untouched');
});

jsonBodies('a JSON validate returns only the body', () => {
  assert.equal(applyConfigJson({ loglevel: 'info' }, { cluster_key: 'k' }, false), { ok: true, config: { cluster_key: 'k' } });
});

jsonBodies('unknown keys and wrong types are 400 bodies', () => {
  assert.equal(applyConfigJson({}, { meta: {}, x: 1 }, true), { ok: false, body: { extra_keys: ['meta', 'x'], name: 'request_body', while: 'parsing_parameters' } });
  const wrong = applyConfigJson({}, { listeners: { http: [{ port: 'x' }] } }, true);
  assert.equal(wrong, { ok: false, body: { error: 'invalid_value', path: ['listeners', 'http', 0, 'port'], while: 'parsing_parameters' } });
  assert.not.ok(applyConfigJson({}, [], true).ok);
  assert.not.ok(applyConfigJson({}, { loglevel: 'warn' }, true).ok);
});

jsonBodies('rendered text reads back to the same model', () => {
  const model = {
    listeners: { http: [{ port: 80, api: false }, { port: 81, address: '::1' }], rtmp: [{ port: 1935 }] },
    edit_auth: { login: 'root', password: 'p w' },
    cluster_key: 'k',
    loglevel: 'error',
    config_external: 'http://c/x',
    streams: [{ name: 'a', inputs: [{ url: 'publish://' }] }],
  };
  const text = renderConfigText(model);
  assert.equal(parseConfigText(text), { ok: true, config: model }, text);
});

jsonBodies.run();
