// Reads a Kubernetes list's JSON body item by item while it arrives, so a page is never held
// whole: only the item being read and the chunk it came in. A 500-item page of Pods is ~4.5 MB
// of JSON, ~20 MB once parsed; a resync reads a dozen such pages, and those pages were each
// replica's memory peak (BENCHMARKS.md). Each item's text is parsed with JSON.parse on its
// own. (stream-json, the streaming parser made for this, was measured at ~30× JSON.parse on a
// 3 MB PodList, 0.7-0.9 s against 24-28 ms, too slow for a tick of a dozen pages on two cores;
// this scanner only finds where each item begins and ends.)
//
// The body is the API server's encoding of a List: one object whose `items` member is an array
// of objects (or null), beside kind, apiVersion and metadata. Everything but the items' texts is
// kept and parsed at the end, so `metadata.continue` is read wherever it comes.

/** Thrown when the body is not a JSON object with an `items` array of objects. */
export class ListBodyError extends Error {
  readonly code = 'KUBE_LIST_BODY';
}

export type ListSplitter = {
  /** Feeds the next chunk of the body; hands every item it completes to `onItem`. */
  write(chunk: Uint8Array): void;
  /** The list without its items (`items` is [] when the body held an array, else as sent). */
  end(): Record<string, unknown>;
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * A splitter calling `onItem` with each item's JSON text, in order. Depth counts open objects
 * and arrays outside strings: the list object is depth 1, so `items: [` opens depth 2 and each
 * item spans from a `{` that opens depth 3 to the `}` that closes it.
 */
export function createListSplitter(onItem: (text: string) => void): ListSplitter {
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** The text of the last string closed at depth 1 (a member name, when a ':' follows). */
  let lastKey = '';
  let keyStart: number | undefined;
  let keyParts: Uint8Array[] = [];
  /** Inside the top-level `items` array. */
  let inItems = false;
  /** Parts of the current item from earlier chunks. */
  let itemParts: Uint8Array[] = [];
  let itemStart: number | undefined;
  /** Everything outside the items array, kept for end(). */
  const rest: Uint8Array[] = [];
  let restStart: number | undefined;
  const decoder = new TextDecoder();

  return {
    write(chunk) {
      restStart = inItems ? undefined : 0;
      if (inItems && depth >= 3) itemStart = 0; // an item goes on from the last chunk
      if (keyStart !== undefined) keyStart = 0;
      for (let i = 0; i < chunk.length; i++) {
        if (inString) {
          // Most of a list is string content: jump to the next quote and look back for escapes.
          if (escaped) {
            escaped = false;
            continue;
          }
          // Bytes from `i` on are unread string content, so a run of backslashes is counted back to `i` only.
          const from = i;
          const quote = chunk.indexOf(QUOTE, from);
          if (quote === -1) {
            escaped = oddBackslashesBefore(chunk, chunk.length, from);
            break;
          }
          i = quote;
          if (oddBackslashesBefore(chunk, quote, from)) continue; // an escaped quote: the string goes on
          inString = false;
          if (keyStart !== undefined) {
            keyParts.push(chunk.subarray(keyStart, i));
            lastKey = decoder.decode(concat(keyParts));
            keyParts = [];
            keyStart = undefined;
          }
          continue;
        }
        const byte = chunk[i]!;
        switch (byte) {
          case QUOTE:
            if (inItems && depth === 2) throw new ListBodyError('a list item is not a JSON object');
            inString = true;
            if (depth === 1) keyStart = i + 1;
            break;
          case OPEN_OBJECT:
            depth++;
            if (inItems && depth === 3) itemStart = i;
            break;
          case OPEN_ARRAY:
            if (inItems && depth === 2) throw new ListBodyError('a list item is not a JSON object');
            depth++;
            if (depth === 2 && lastKey === 'items') {
              if (restStart !== undefined) rest.push(chunk.subarray(restStart, i + 1));
              restStart = undefined;
              inItems = true;
            }
            break;
          case CLOSE_OBJECT:
            if (inItems && depth === 3 && itemStart !== undefined) {
              itemParts.push(chunk.subarray(itemStart, i + 1));
              onItem(decoder.decode(concat(itemParts)));
              itemParts = [];
              itemStart = undefined;
            }
            depth--;
            break;
          case CLOSE_ARRAY:
            if (inItems && depth === 2) {
              inItems = false;
              restStart = i;
            }
            depth--;
            break;
          default:
            if (inItems && depth === 2 && byte > 0x20 && byte !== 0x2c) throw new ListBodyError('a list item is not a JSON object');
        }
        if (depth < 0) throw new ListBodyError('the list body is not a JSON object');
      }
      if (itemStart !== undefined) itemParts.push(chunk.subarray(itemStart));
      if (keyStart !== undefined) keyParts.push(chunk.subarray(keyStart));
      if (restStart !== undefined) rest.push(chunk.subarray(restStart));
      itemStart = undefined;
    },
    end() {
      if (depth !== 0 || inString) throw new ListBodyError('the list body ended early');
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(concat(rest)));
      } catch (cause) {
        throw new ListBodyError(`the list body is not JSON: ${(cause as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ListBodyError('the list body is not a JSON object');
      return parsed as Record<string, unknown>;
    },
  };
}

/** Whether the backslashes right before `end` (back to `from`) are an odd run: the byte at `end` is escaped. */
function oddBackslashesBefore(chunk: Uint8Array, end: number, from: number): boolean {
  let j = end - 1;
  while (j >= from && chunk[j] === BACKSLASH) j--;
  return (end - 1 - j) % 2 === 1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
