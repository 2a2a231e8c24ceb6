// The edge where HTTP requests become typed events. Accepts binary content mode (ce-* headers,
// data in the body; what the ApiServerSource adapter and the Broker send) and structured mode
// (application/cloudevents+json). The body may be the raw string/Buffer or JSON that
// functions-framework's express already parsed.
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { z } from 'zod';
import { describeError } from './describe-error.ts';
import { EventParseError } from './errors.ts';
import { apiServerEventKind, PING_EVENT_TYPE, type ParsedEvent } from './event-types.ts';

/** An HTTP request as far as parsing cares. Header names are matched case-insensitively. */
export type EventMessage = {
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: unknown;
};

const requiredString = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `event has no ${what}` : `event ${what} is not a string`) })
    .min(1, { error: `event ${what} is empty` });

/** The CloudEvents v1.0 required context attributes. */
const Attributes = z.object({
  specversion: z.literal('1.0', {
    error: (issue) =>
      issue.input === undefined
        ? "event has no 'specversion' attribute"
        : `event specversion ${JSON.stringify(issue.input)?.slice(0, 40)} is not supported (expected "1.0")`,
  }),
  id: requiredString("'id' attribute"),
  source: requiredString("'source' attribute"),
  type: requiredString("'type' attribute"),
});

/** The ApiServerSource extensions naming the object (knative.md §1.1). */
const ObjectExtensions = z.object({
  apiversion: requiredString("'apiversion' extension"),
  kind: requiredString("'kind' extension"),
  namespace: requiredString("'namespace' extension"),
  name: requiredString("'name' extension"),
});

/**
 * Parses one request into an object event, a resync tick, or an ignored event (a valid
 * CloudEvent of another type). Throws EventParseError for anything malformed.
 */
export function parseEvent(message: EventMessage): ParsedEvent {
  const headers = lowerCaseHeaders(message.headers);
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = asText(message.body);

  if (mediaType.startsWith('application/cloudevents-batch')) {
    throw new EventParseError('batched CloudEvents are not supported');
  }
  const structured = mediaType.startsWith('application/cloudevents');
  if (!structured && !Object.keys(headers).some((name) => name.startsWith('ce-'))) {
    throw new EventParseError('request is not a CloudEvent: no ce-* headers and content type is not application/cloudevents+json');
  }
  const envelope = structured ? jsonObject(body, 'structured event body') : undefined;
  const attributes = check(
    Attributes,
    envelope ?? { specversion: headers['ce-specversion'], id: headers['ce-id'], source: headers['ce-source'], type: headers['ce-type'] },
  );
  const { id, type } = attributes;

  if (type === PING_EVENT_TYPE) return { kind: 'resync', id, type };
  const kind = apiServerEventKind(type);
  if (!kind) return { kind: 'ignored', reason: `event type '${type}' is not handled`, id, type };

  const event = envelope
    ? decode({ headers: { 'content-type': 'application/cloudevents+json' }, body: envelope })
    : decode({ headers: { ...headers, ...(mediaType ? { 'content-type': mediaType } : {}) }, body: binaryData(body, mediaType) });
  const extensions = check(ObjectExtensions, event);
  const ref = { apiVersion: extensions.apiversion, kind: extensions.kind, namespace: extensions.namespace, name: extensions.name };
  if (kind.mode === 'reference') return { kind: 'object', ...kind, ref, id, type };

  if (!isPlainObject(event.data)) {
    throw new EventParseError(`resource-mode event data is not a JSON object (content type '${mediaType || 'none'}')`);
  }
  // Every object a watch delivers has metadata; express turns an empty JSON body into {}.
  if (!isPlainObject(event.data.metadata)) throw new EventParseError('resource-mode event data has no metadata object');
  return { kind: 'object', ...kind, ref, object: event.data, id, type };
}

function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new EventParseError(result.error.issues.map((issue) => issue.message).join('; '));
}

/** cloudevents' own decoder: attributes, extensions, data_base64. Errors become EventParseError. */
function decode(message: { headers: Record<string, string>; body: unknown }): CloudEventV1<unknown> {
  let decoded: CloudEventV1<unknown> | CloudEventV1<unknown>[];
  try {
    decoded = HTTP.toEvent<unknown>(message);
  } catch (error) {
    throw new EventParseError(`event could not be decoded: ${describeError(error).message}`, { cause: error });
  }
  if (Array.isArray(decoded)) throw new EventParseError('batched CloudEvents are not supported');
  return decoded;
}

/** Binary mode: JSON data (application/json or any +json) parsed once here, with a clear error. */
function binaryData(body: unknown, mediaType: string): unknown {
  const json = mediaType === 'application/json' || mediaType.endsWith('+json');
  if (!json || typeof body !== 'string') return body;
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    // The SyntaxError quotes the data; it must not reach logs or responses.
    throw new EventParseError(`event data is not valid JSON (content type '${mediaType}')`);
  }
}

function jsonObject(body: unknown, what: string): Record<string, unknown> {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new EventParseError(`${what} is not valid JSON`);
    }
  }
  if (!isPlainObject(value)) throw new EventParseError(`${what} is not a JSON object`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Raw bytes as UTF-8 text; anything else unchanged. */
function asText(body: unknown): unknown {
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return body;
}

function lowerCaseHeaders(headers: EventMessage['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    result[name.toLowerCase()] = typeof value === 'string' ? value : value.join(', ');
  }
  return result;
}
