// Condition bookkeeping: lastTransitionTime moves only when the status flips; a write is
// needed only when something a reader sees differs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Condition } from '../../lib/schema/condition.ts';
import { findCondition, isTransition, MAX_MESSAGE_LENGTH, nextCondition, rfc3339, sameCondition } from '../../lib/status/condition.ts';
import { quickstart } from '../fixtures/streamers.ts';

const T0 = '2026-01-14T10:00:00Z';
const now = new Date('2026-01-14T11:22:33.456Z');
const saved: Condition = { type: 'StreamerConfigSaved', status: 'True', reason: 'ConfigSaved', message: 'ok', lastTransitionTime: T0, observedGeneration: 1 };

// ---

const next = suite('nextCondition');

next('keeps lastTransitionTime when the status stays the same', () => {
  const condition = nextCondition({ previous: saved, input: { type: saved.type, status: 'True', reason: 'ConfigSaved', message: 'saved again' }, generation: 2, now });
  assert.is(condition.lastTransitionTime, T0);
  assert.is(condition.observedGeneration, 2);
  assert.is(condition.message, 'saved again');
});

next('moves lastTransitionTime to now (whole seconds, UTC) when the status flips', () => {
  const condition = nextCondition({ previous: saved, input: { type: saved.type, status: 'False', reason: 'Forbidden', message: 'no' }, generation: 1, now });
  assert.is(condition.lastTransitionTime, '2026-01-14T11:22:33Z');
});

next('sets lastTransitionTime to now for a new condition', () => {
  const condition = nextCondition({ previous: undefined, input: { type: 'StreamerReady', status: 'Unknown', reason: 'X', message: '' }, generation: undefined, now });
  assert.is(condition.lastTransitionTime, '2026-01-14T11:22:33Z');
  assert.not.ok('observedGeneration' in condition, 'no generation, no observedGeneration');
});

next('a reason change with the same status keeps lastTransitionTime', () => {
  const previous: Condition = { ...saved, status: 'False', reason: 'Forbidden' };
  const condition = nextCondition({ previous, input: { type: saved.type, status: 'False', reason: 'ConfigInvalid', message: 'bad' }, generation: 1, now });
  assert.is(condition.lastTransitionTime, T0);
});

next(`caps the message at ${MAX_MESSAGE_LENGTH} characters`, () => {
  const condition = nextCondition({ previous: undefined, input: { type: 'StreamerReady', status: 'Unknown', reason: 'X', message: 'x'.repeat(5000) }, generation: 1, now });
  assert.is(condition.message.length, MAX_MESSAGE_LENGTH);
  assert.ok(condition.message.endsWith('…'));
});

next.run();

// ---

const same = suite('sameCondition');

same('is true for an identical condition', () => {
  assert.ok(sameCondition({ ...saved }, saved));
});

for (const [field, value] of [['status', 'False'], ['reason', 'Other'], ['message', 'other'], ['lastTransitionTime', '2026-01-15T00:00:00Z'], ['observedGeneration', 2]] as const) {
  same(`is false when ${field} differs`, () => {
    assert.not.ok(sameCondition(saved, { ...saved, [field]: value }));
  });
}

same('is false when there is no previous condition', () => {
  assert.not.ok(sameCondition(undefined, saved));
});

same.run();

// ---

const transition = suite('isTransition');

transition('a new condition is a transition', () => assert.ok(isTransition(undefined, saved)));
transition('a status change is a transition', () => assert.ok(isTransition(saved, { ...saved, status: 'Unknown', reason: 'ServerError' })));
transition('a reason change is a transition', () => assert.ok(isTransition({ ...saved, status: 'False', reason: 'Forbidden' }, { ...saved, status: 'False', reason: 'ConfigInvalid' })));
transition('a message or generation change alone is not', () => assert.not.ok(isTransition(saved, { ...saved, message: 'new', observedGeneration: 9 })));

transition.run();

// ---

const find = suite('findCondition');

find('finds a condition by type, or undefined', () => {
  const streamer = { ...quickstart, status: { conditions: [saved, { ...saved, type: 'StreamerReady' }] } };
  assert.is(findCondition(streamer, 'StreamerReady')?.type, 'StreamerReady');
  assert.is(findCondition(streamer, 'StreamerConfigSaved'), saved);
  assert.is(findCondition(quickstart, 'StreamerReady'), undefined);
});

find.run();

// ---

const time = suite('rfc3339');

time('drops fractions of a second', () => {
  assert.is(rfc3339(new Date('2026-03-01T00:00:00.999Z')), '2026-03-01T00:00:00Z');
});

time.run();
