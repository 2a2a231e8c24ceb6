import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEnv, withUserinfo } from '../../lib/k8s/env.ts';
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
