// lib/kube/list-items.ts: a List body fed in chunks of any size gives exactly the items
// JSON.parse gives, one at a time and in order, and the rest of the list (its metadata with
// the continue token) wherever that comes; what is not a List of objects is refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createListSplitter, ListBodyError } from '../../lib/kube/list-items.ts';

const test = suite('list items');

/** Feeds `text` in chunks of `size` bytes; returns the items parsed one by one and the rest. */
function split(text: string, size: number) {
  const items: unknown[] = [];
  const splitter = createListSplitter((item) => items.push(JSON.parse(item)));
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) splitter.write(bytes.subarray(at, at + size));
  return { items, rest: splitter.end() };
}

// Strings that look like structure, escapes before quotes, a nested `items`, and multi-byte
// characters (split between chunks by the 1- and 7-byte feeds).
const tricky = {
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '42', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' },
  items: [
    { metadata: { name: 'a', annotations: { note: 'braces } { and brackets ] [ in a string' } } },
    { metadata: { name: 'b', annotations: { quote: 'say \\"hi\\" \\\\', tail: 'ends in a backslash \\\\', runs: '\\\\\\"\\\\\\\\"}\\\\' } }, spec: { items: [{ x: 1 }, []] } },
    { metadata: { name: 'ç', annotations: { emoji: 'caméra 📹 кадр' } }, status: { phase: 'Running', n: [1, 2.5, -3e2, true, null] } },
  ],
};

test('every chunk size gives the items JSON.parse gives, in order, and the list\'s metadata', () => {
  const text = JSON.stringify(tricky, null, 1);
  for (const size of [1, 2, 3, 7, 64, text.length]) {
    const { items, rest } = split(text, size);
    assert.equal(items, tricky.items, `chunks of ${size}`);
    assert.equal(rest, { ...tricky, items: [] }, `chunks of ${size}`);
  }
});

test('metadata after the items, and an empty list, read the same', () => {
  const after = `{"items":[{"metadata":{"name":"x"}}],"kind":"List","metadata":{"continue":"next"}}`;
  assert.equal(split(after, 5), { items: [{ metadata: { name: 'x' } }], rest: { items: [], kind: 'List', metadata: { continue: 'next' } } });
  assert.equal(split('{"kind":"PodList","items":[]}', 3), { items: [], rest: { kind: 'PodList', items: [] } });
});

test('"items": null (an empty PartialObjectMetadataList) is no item and no error', () => {
  const text = '{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9"},"items":null}';
  assert.equal(split(text, 4), { items: [], rest: JSON.parse(text) });
});

test('an item that is not an object, a body that ends early, and a body that is not an object are refused', () => {
  for (const [text, message] of [
    ['{"items":["a"]}', /not a JSON object/],
    ['{"items":[1]}', /not a JSON object/],
    ['{"items":[[]]}', /not a JSON object/],
    ['{"items":[{"metadata":{}}', /ended early/],
    ['[]', /not a JSON object/],
    ['{"kind": nope}', /not JSON/],
  ] as const) {
    try {
      split(text, 3);
      assert.unreachable(`${text} must be refused`);
    } catch (error) {
      assert.instance(error, ListBodyError, text);
      assert.is((error as ListBodyError).code, 'KUBE_LIST_BODY');
      assert.match((error as Error).message, message, text);
    }
  }
});

test('items are handed over as they complete, before the body has ended', () => {
  const seen: string[] = [];
  const splitter = createListSplitter((item) => seen.push((JSON.parse(item) as { metadata: { name: string } }).metadata.name));
  splitter.write(Buffer.from('{"kind":"PodList","items":[{"metadata":{"name":"first"}},{"metadata":'));
  assert.equal(seen, ['first']);
  splitter.write(Buffer.from('{"name":"second"}}]}'));
  assert.equal(seen, ['first', 'second']);
  assert.equal(splitter.end(), { kind: 'PodList', items: [] });
});

test.run();
