// crds/*.yaml as the API server sees them: the spec's examples are accepted, invalid Streamers
// are rejected with a clear message, `latest` draws the admission policy's warning, and the
// status conditions merge per condition type under server-side apply.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useCluster } from '../cluster/shared.ts';
import {
  configExtraManifest,
  everyFieldManifest,
  hostPathVolumeManifest,
  quickstartManifest,
  type StreamerManifest,
} from '../fixtures/streamers.ts';

const cluster = await useCluster();
const namespace = await cluster.createNamespace('streamer-crd');

const apply = (object: unknown, args: string[] = []) =>
  cluster.kubectl(['apply', '-n', namespace, ...args, '-f', '-'], { input: JSON.stringify(object) });

const named = (name: string, source: StreamerManifest, spec: Record<string, unknown> = source.spec): StreamerManifest =>
  ({ ...source, metadata: { name }, spec: spec as StreamerManifest['spec'] });

// ---

const accepted = suite('Streamer CRD accepts');

const examples: [string, StreamerManifest][] = [
  ['the quickstart', quickstartManifest],
  ['the configExtra example (with nodeName)', configExtraManifest],
  ['the hostPath volume example (with nodeName)', hostPathVolumeManifest],
  ['a Streamer using every field', everyFieldManifest],
];
for (const [name, manifest] of examples) {
  accepted(name, async () => {
    const object = named(`ok-${manifest.metadata.name}-${examples.findIndex(([n]) => n === name)}`, manifest);
    const result = await apply(object);
    assert.is(result.code, 0, result.stderr);
    const stored = await cluster.kubectl.json<{ spec: Record<string, unknown> }>(['get', 'streamer', '-n', namespace, object.metadata.name]);
    assert.equal(stored.spec, { image: 'flussonic/flussonic', ...manifest.spec }, 'stored as written, image defaulted');
  });
}

accepted('the short name and printer columns', async () => {
  const result = await cluster.kubectl(['get', 'str', '-n', namespace]);
  assert.is(result.code, 0, result.stderr);
  const header = result.stdout.split('\n')[0]?.split(/\s+/);
  assert.equal(header, ['NAME', 'VERSION', 'NODE', 'READY', 'STREAMER-READY', 'CONFIG-SAVED', 'AGE']);
});

accepted.run();

// ---

const rejected = suite('Streamer CRD rejects');

const { version: _version, ...withoutVersion } = quickstartManifest.spec;
const { nodeName: _nodeName, ...withoutNode } = quickstartManifest.spec;
const invalid: [string, Record<string, unknown>, RegExp][] = [
  ['a missing version', withoutVersion, /spec\.version: Required value/],
  ['a missing nodeName', withoutNode, /spec\.nodeName: Required value/],
  ['hostPort 0', { ...quickstartManifest.spec, hostPort: 0 }, /spec\.hostPort: Invalid value: 0: spec\.hostPort in body should be greater than or equal to 1/],
  ['hostPort 70000', { ...quickstartManifest.spec, hostPort: 70000 }, /spec\.hostPort: Invalid value: 70000: spec\.hostPort in body should be less than or equal to 65535/],
  ['adminHostPort 0', { ...quickstartManifest.spec, adminHostPort: 0 }, /spec\.adminHostPort: Invalid value: 0: .*greater than or equal to 1/],
  ['adminHostPort 70000', { ...quickstartManifest.spec, adminHostPort: 70000 }, /spec\.adminHostPort: Invalid value: 70000: .*less than or equal to 65535/],
  ['an unknown logLevel', { ...quickstartManifest.spec, logLevel: 'verbose' },
    /spec\.logLevel: Unsupported value: "verbose": supported values: "debug", "info", "warn", "error"/],
  ['a volume without mountPath', { ...quickstartManifest.spec, volumes: [{ name: 'x', emptyDir: {} }] }, /spec\.volumes\[0\]\.mountPath: Required value/],
];
for (const [name, spec, message] of invalid) {
  rejected(`${name}, saying why`, async () => {
    const result = await apply(named('bad', quickstartManifest, spec));
    assert.is.not(result.code, 0, 'must fail');
    assert.match(result.stderr, /is invalid/);
    assert.match(result.stderr, message);
  });
}

rejected.run();

// ---

const refused = suite('Streamer CRD refuses what can never work, naming the field and the limit');

const base = quickstartManifest.spec;
const emptyDir = (name: string, mountPath: string) => ({ name, mountPath, emptyDir: {} });
const neverWork: [string, string, Record<string, unknown>, RegExp][] = [
  ['a 44-character name', 'a'.repeat(44), base, /metadata\.name must be at most 43 characters/],
  ['a name that is not a Service name', '1st-streamer', base, /metadata\.name must be a DNS-1035 label/],
  ['a name with a dot', 'my.streamer', base, /metadata\.name must be a DNS-1035 label/],
  ['hostPort 81 (the API port inside the container)', 'bad', { ...base, hostPort: 81 }, /spec\.hostPort: Invalid value: .*must not be 81/],
  ['hostPort equal to adminHostPort', 'bad', { ...base, hostPort: 8080, adminHostPort: 8080 }, /spec\.adminHostPort: Invalid value: .*must differ from spec\.hostPort/],
  ['a volume name that is not a DNS label', 'bad', { ...base, volumes: [emptyDir('Storage_Bad', '/storage')] }, /spec\.volumes\[0\]\.name: Invalid value: .*must be a valid Pod volume name/],
  // volumes is a map list keyed by name (server-side apply answers before validation does).
  ['two volumes with one name', 'bad', { ...base, volumes: [emptyDir('data', '/a'), emptyDir('data', '/b')] }, /spec\.volumes: duplicate entries for key \[name="data"\]/],
  ['a volume with no source', 'bad', { ...base, volumes: [{ name: 'x', mountPath: '/x' }] }, /spec\.volumes\[0\]: Invalid value: .*must contain a volume type/],
  ['a volume with two sources', 'bad', { ...base, volumes: [{ name: 'x', mountPath: '/x', emptyDir: {}, hostPath: { path: '/x' } }] }, /spec\.volumes\[0\]: Invalid value: .*exactly one volume type/],
  ['a mountPath on the config directory', 'bad', { ...base, volumes: [emptyDir('x', '/etc/flussonic/flussonic.conf.d')] }, /spec\.volumes\[0\]\.mountPath: Invalid value: .*operator mounts the media server configuration there/],
  ['a mountPath inside the config directory', 'bad', { ...base, volumes: [emptyDir('x', '/etc/flussonic/flussonic.conf.d/extra')] }, /spec\.volumes\[0\]\.mountPath: Invalid value: .*must not be \/etc\/flussonic\/flussonic\.conf\.d or inside it/],
  ['a relative mountPath', 'bad', { ...base, volumes: [emptyDir('x', 'storage')] }, /spec\.volumes\[0\]\.mountPath: Invalid value: .*must be an absolute path/],
  ['configExtra larger than one ConfigMap holds', 'bad', { ...base, configExtra: { 'a.conf': 'x'.repeat(600_000), 'b.conf': 'y'.repeat(500_000) } }, /spec\.configExtra: Invalid value: .*too large.*1047552 characters/],
  ['spec.env replacing FLUSSONIC_EDIT_AUTH', 'bad', { ...base, env: [{ name: 'FLUSSONIC_EDIT_AUTH', value: 'admin:x' }] }, /spec\.env: Invalid value: .*must not set FLUSSONIC_EDIT_AUTH.*set spec\.editAuth instead/],
  ['a negative nvidiaGpuCount', 'bad', { ...base, nvidiaGpuCount: -1 }, /spec\.nvidiaGpuCount: Invalid value: .*must be 0 or more/],
];
for (const [what, name, spec, message] of neverWork) {
  refused(`${what}, saying which field and why`, async () => {
    // Server-side: client-side apply would copy a large configExtra into an annotation.
    const result = await apply(named(name, quickstartManifest, spec), ['--server-side']);
    assert.is.not(result.code, 0, 'must be refused');
    assert.match(result.stderr, message);
  });
}

// What could work under upstream is accepted; the operator converges it by a documented rule.
const mayWork: [string, string, Record<string, unknown>][] = [
  ['a 43-character name', 'n'.repeat(43), base],
  ['spec.env replacing an operator variable (FLUSSONIC_HOSTNAME)', 'env-override', { ...base, env: [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }] }],
  ['spec.env repeating a name', 'env-repeat', { ...base, env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] }],
  ['a volume named like the operator\'s config volume', 'volume-name', { ...base, volumes: [emptyDir('streamer-operator-config', '/data')] }],
  ['a mountPath next to the config directory', 'mount-next', { ...base, volumes: [emptyDir('x', '/etc/flussonic/flussonic.conf.d2')] }],
  ['configExtra just under the limit', 'big-config', { ...base, configExtra: { 'a.conf': 'x'.repeat(1047552 - 18 - 'a.conf'.length) } }],
  ['hostPort 80 with adminHostPort 81', 'ports', { ...base, hostPort: 80, adminHostPort: 81 }],
];
for (const [what, name, spec] of mayWork) {
  refused(`accepts ${what}`, async () => {
    const result = await apply(named(name, quickstartManifest, spec), ['--server-side']);
    assert.is(result.code, 0, result.stderr);
  });
}

refused('two volumes with one name, applied client-side: the duplicate is named', async () => {
  const result = await apply(named('bad', quickstartManifest, { ...base, volumes: [emptyDir('data', '/a'), emptyDir('data', '/b')] }));
  assert.is.not(result.code, 0);
  assert.match(result.stderr, /spec\.volumes\[1\]: Duplicate value: \{"name":"data"\}/);
});

refused.run();

// ---

const policy = suite('streamer version admission policy');

const latest = named('floating', quickstartManifest, { ...quickstartManifest.spec, version: 'latest' });
const warning = /Warning: .*spec\.version "latest" does not pin a media server version/;

policy('warns on kubectl apply of version latest, and still accepts it', async () => {
  // A new policy becomes active within seconds; poll (bounded) with server-side dry runs.
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    last = (await apply(latest, ['--dry-run=server'])).stderr;
    if (warning.test(last)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.match(last, warning);
  const result = await apply(latest);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, warning);
});

const floating: [string, boolean][] = [['', true], ['stable', true], ['v', true], ['v26.01-5', false], ['26.01-5', false]];
for (const [version, warns] of floating) {
  policy(`version "${version}" ${warns ? 'warns' : 'does not warn'}`, async () => {
    const result = await apply(named('versioned', quickstartManifest, { ...quickstartManifest.spec, version }), ['--dry-run=server']);
    assert.is(result.code, 0, result.stderr);
    assert.is(/Warning: .*does not pin a media server version/.test(result.stderr), warns, result.stderr);
  });
}

policy.run();

// ---

const status = suite('Streamer status');

const condition = (type: string, value: string) => ({
  type, status: value, reason: 'Tested', message: `${type} set by a test`, lastTransitionTime: '2026-01-14T10:00:00Z',
});
const applyStatus = (manager: string, body: Record<string, unknown>) =>
  cluster.kubectl(
    ['apply', '-n', namespace, '--server-side', '--subresource=status', `--field-manager=${manager}`, '-f', '-'],
    { input: JSON.stringify({ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', metadata: { name: 'status' }, status: body }) },
  );

status('each function owns its own condition under server-side apply', async () => {
  const created = await apply(named('status', quickstartManifest));
  assert.is(created.code, 0, created.stderr);
  const a = await applyStatus('probe-status', { ready: true, conditions: [condition('StreamerReady', 'True')] });
  assert.is(a.code, 0, a.stderr);
  const b = await applyStatus('push-config', { conditions: [condition('StreamerConfigSaved', 'False')] });
  assert.is(b.code, 0, b.stderr);
  const stored = await cluster.kubectl.json<{ status: { ready: boolean; conditions: { type: string; status: string }[] } }>(
    ['get', 'streamer', '-n', namespace, 'status'],
  );
  assert.is(stored.status.ready, true);
  assert.equal(stored.status.conditions.map((c) => [c.type, c.status]).sort(), [['StreamerConfigSaved', 'False'], ['StreamerReady', 'True']]);
  const columns = await cluster.kubectl.run(['get', 'streamer', '-n', namespace, 'status', '--no-headers']);
  assert.match(columns.stdout, /^status\s+v26\.01-5\s+stream-node\s+true\s+True\s+False\s+/);
});

status('rejects a condition with an invalid status', async () => {
  const result = await applyStatus('probe-status', { conditions: [condition('StreamerReady', 'Maybe')] });
  assert.is.not(result.code, 0);
  assert.match(result.stderr, /status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
});

status.run();
