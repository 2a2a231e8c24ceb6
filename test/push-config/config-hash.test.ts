import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { configHash } from '../../lib/push-config/config-hash.ts';

const hash = suite('configHash');

hash('is sha256:<64 hex> of the UTF-8 text', () => {
  // echo -n 'http 81;' | sha256sum
  // printf 'http 81;' | sha256sum
  assert.is(configHash('http 81;'), 'sha256:e9a85c6e430d126d91bec5976cb06ac05de77836b7c8507ce26e42d962076be1');
});

hash('differs when one character differs, equal for equal text', () => {
  assert.is.not(configHash('http 81;\n'), configHash('http 81;'));
  assert.is(configHash('é'), configHash('é'));
});

hash.run();
