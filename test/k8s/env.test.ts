import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEnv, IRREPLACEABLE_ENV, mergeUserEnv, withUserinfo } from '../../lib/k8s/env.ts';
import { escapeUserinfo } from '../../lib/k8s/config-external-auth.ts';
import { configExtraManifest, everyField, everyFieldManifest, live, quickstart } from '../fixtures/streamers.ts';

const names = (env: { name: string }[]) => env.map((e) => e.name);

// ---

const env = suite('buildEnv');

env('puts the operator\'s variables first, then spec.env in its order', () => {
  assert.equal(names(buildEnv(everyField)), [
    'FLUSSONIC_HOSTNAME',
    'STREAMER_HOSTNAME',
    'FLUSSONIC_SECRETS_STORAGE',
    'DO_NOT_DO_NET_TUNING',
    'LICENSE_KEY',
    'FLUSSONIC_EDIT_AUTH',
    'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH',
    'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH_SOURCE',
    'FLUSSONIC_CONFIG_EXTERNAL',
    'FLUSSONIC_CLUSTER_KEY',
    'MY_ENV_VAR',
    'SECRET_VALUE',
    'CENTRAL_NAME',
  ]);
});

env('takes the hostname from the node the Pod runs on', () => {
  assert.equal(buildEnv(quickstart)[0], { name: 'FLUSSONIC_HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
});

env('points the secrets storage at <name>-license-storage', () => {
  assert.equal(buildEnv(quickstart).find((e) => e.name === 'FLUSSONIC_SECRETS_STORAGE'), {
    name: 'FLUSSONIC_SECRETS_STORAGE',
    value: 'k8s://simple-license-storage',
  });
});

env('passes licenseKey as given', () => {
  assert.equal(buildEnv(quickstart).find((e) => e.name === 'LICENSE_KEY')?.valueFrom, {
    secretKeyRef: { name: 'flussonic-license', key: 'license_key', optional: false },
  });
});

env('reads edit auth from spec.editAuth when given', () => {
  assert.equal(buildEnv(everyField).find((e) => e.name === 'FLUSSONIC_EDIT_AUTH')?.valueFrom, {
    secretKeyRef: { name: 'my-edit-auth-secret', key: 'edit_auth' },
  });
});

env('else from key edit_auth of <name>-license-storage', () => {
  assert.equal(buildEnv(quickstart).find((e) => e.name === 'FLUSSONIC_EDIT_AUTH')?.valueFrom, {
    secretKeyRef: { name: 'simple-license-storage', key: 'edit_auth', optional: false },
  });
});

env('omits license, config external and cluster key when unset', () => {
  assert.equal(names(buildEnv(live(configExtraManifest))), [
    'FLUSSONIC_HOSTNAME', 'STREAMER_HOSTNAME', 'FLUSSONIC_SECRETS_STORAGE', 'DO_NOT_DO_NET_TUNING', 'FLUSSONIC_EDIT_AUTH',
  ]);
});

env('passes configExternalUrl unchanged when it has no auth', () => {
  const { configExternalAuth: _auth, ...spec } = everyFieldManifest.spec;
  const config = buildEnv(live({ ...everyFieldManifest, spec })).filter((e) => e.name.includes('CONFIG_EXTERNAL'));
  assert.equal(config, [{ name: 'FLUSSONIC_CONFIG_EXTERNAL', value: 'http://config-server/config' }]);
});

env('a user variable named like one of the operator\'s replaces it in the operator\'s place; each name once', () => {
  const streamer = live({ ...everyFieldManifest, spec: { ...everyFieldManifest.spec, env: [
    { name: 'MY_ENV_VAR', value: 'first' },
    { name: 'FLUSSONIC_HOSTNAME', value: 'my-host' },
    { name: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH', value: 'key0' },
    { name: 'MY_ENV_VAR', value: 'last' },
  ] } });
  const built = buildEnv(streamer);
  assert.equal(names(built), [
    'FLUSSONIC_HOSTNAME', 'STREAMER_HOSTNAME', 'FLUSSONIC_SECRETS_STORAGE', 'DO_NOT_DO_NET_TUNING', 'LICENSE_KEY', 'FLUSSONIC_EDIT_AUTH',
    'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH', 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH_SOURCE', 'FLUSSONIC_CONFIG_EXTERNAL', 'FLUSSONIC_CLUSTER_KEY', 'MY_ENV_VAR',
  ]);
  assert.equal(built[0], { name: 'FLUSSONIC_HOSTNAME', value: 'my-host' });
  // The replaced variable still comes before the operator's reference to it.
  assert.equal(built[6], { name: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH', value: 'key0' });
  assert.equal(built.at(-1), { name: 'MY_ENV_VAR', value: 'last' });
});

env('mergeUserEnv keeps the last of repeated user names where it stands', () => {
  const merged = mergeUserEnv([{ name: 'A', value: 'op' }], [{ name: 'B', value: '1' }, { name: 'C', value: 'x' }, { name: 'B', value: '2' }, { name: 'A', value: 'user' }]);
  assert.equal(merged, [{ name: 'A', value: 'user' }, { name: 'C', value: 'x' }, { name: 'B', value: '2' }]);
});

env('FLUSSONIC_EDIT_AUTH is the one variable spec.env may not replace (the CRD refuses it)', () => {
  assert.equal(IRREPLACEABLE_ENV, ['FLUSSONIC_EDIT_AUTH']);
});

env('configExternalAuth from a Secret or ConfigMap key is referenced escaped, from <name>-license-storage', () => {
  assert.equal(buildEnv(everyField).find((e) => e.name === 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH')?.valueFrom, {
    secretKeyRef: { name: 'rich-license-storage', key: 'config_external_auth', optional: false },
  });
  const fromField = live({ ...everyFieldManifest, spec: { ...everyFieldManifest.spec, configExternalAuth: { fieldRef: { fieldPath: 'metadata.name' } } } });
  assert.equal(buildEnv(fromField).find((e) => e.name === 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
});

env('contains no log level: logLevel is a hot config directive', () => {
  assert.not.ok(JSON.stringify(buildEnv(everyField)).toLowerCase().includes('log'));
});

env('inlines no secret value anywhere', () => {
  for (const entry of buildEnv(everyField)) {
    if (entry.valueFrom) assert.is(entry.value, undefined, entry.name);
  }
});

env.run();

// ---

const userinfo = suite('withUserinfo');

const cases: [string, string][] = [
  ['http://config-server/config', 'http://$(A)@config-server/config'],
  ['https://old:pw@central:8080/api?x=1', 'https://$(A)@central:8080/api?x=1'],
  ['http://central/streamers/$(FLUSSONIC_HOSTNAME)', 'http://$(A)@central/streamers/$(FLUSSONIC_HOSTNAME)'],
  ['central/path', '$(A)@central/path'],
];
for (const [url, expected] of cases) {
  userinfo(`${url} -> ${expected}`, () => {
    assert.is(withUserinfo(url, '$(A)'), expected);
  });
}

userinfo.run();

// ---

const escape = suite('escapeUserinfo');

const escapes: [string, string][] = [
  ['apikey0', 'apikey0'],
  ['user:pass', 'user:pass'],
  ['us@er:p@ss:w/o#rd?%', 'us%40er:p%40ss%3Aw%2Fo%23rd%3F%25'],
  ['user:already%40encoded', 'user:already%40encoded'],
  ['user:sp ace', 'user:sp%20ace'],
  ['ключ:пароль€', '%D0%BA%D0%BB%D1%8E%D1%87:%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C%E2%82%AC'],
  ["a!$&'()*+,;=~._-", "a!$&'()*+,;=~._-"],
];
for (const [raw, expected] of escapes) {
  escape(`${raw} -> ${expected}`, () => {
    assert.is(escapeUserinfo(raw), expected);
  });
}

escape('gives a URL whose userinfo decodes back to the value', () => {
  const raw = 'log@in:p:a/s#s?w%rd';
  const url = new URL(withUserinfo('http://config-server/config', escapeUserinfo(raw)));
  assert.is(url.hostname, 'config-server');
  assert.is(url.pathname, '/config');
  assert.is(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`, raw);
});

escape.run();
