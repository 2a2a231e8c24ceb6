import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildLicenseStorageSecret,
  buildLicenseStorageSecretSeed,
  EDIT_AUTH_KEY,
  generateEditAuth,
} from '../../lib/k8s/secret.ts';
import { everyField, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

// ---

const secret = suite('buildLicenseStorageSecret');

secret('builds the metadata-only Secret of a Streamer using every field', () => {
  assert.equal(plain(buildLicenseStorageSecret(everyField)), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: richChildMeta('rich-license-storage'),
  });
});

secret('carries no data, so applying it never touches keys the media server wrote', () => {
  const built = buildLicenseStorageSecret(quickstart);
  assert.is(built.metadata?.name, 'simple-license-storage');
  assert.is(built.data, undefined);
  assert.is(built.stringData, undefined);
  assert.is(built.type, undefined);
});

secret.run();

// ---

const seed = suite('buildLicenseStorageSecretSeed');

seed('is the same Secret plus the generated edit_auth, for a one-time create', () => {
  assert.equal(plain(buildLicenseStorageSecretSeed({ streamer: quickstart, editAuth: 'admin:pw' })), {
    ...plain(buildLicenseStorageSecret(quickstart)) as object,
    type: 'Opaque',
    stringData: { edit_auth: 'admin:pw' },
  });
  assert.is(EDIT_AUTH_KEY, 'edit_auth');
});

seed.run();

// ---

const generate = suite('generateEditAuth');

generate('returns <login>:<password> with 24 random bytes in base64url', () => {
  const sizes: number[] = [];
  const value = generateEditAuth((size) => {
    sizes.push(size);
    return new Uint8Array(size).fill(0xff);
  });
  assert.equal(sizes, [24]);
  assert.is(value, `admin:${'_'.repeat(32)}`);
});

generate('uses a CSPRNG by default: two calls differ, 192 bits each', () => {
  const a = generateEditAuth();
  const b = generateEditAuth();
  assert.is.not(a, b);
  assert.match(a, /^admin:[A-Za-z0-9_-]{32}$/);
  assert.is(Buffer.from(a.split(':')[1] ?? '', 'base64url').length, 24);
});

generate('refuses a random source that returns too few bytes', () => {
  assert.throws(() => generateEditAuth(() => new Uint8Array(8)), /expected 24/);
});

generate.run();
