// JSON bodies of PUT/POST /config in the double, and rendering its model back to config text.
// JSON PUT is a partial update (flussonic-api.md §1.3): each top-level key replaces the
// current value, `null` deletes it. Keys the double does not model are refused with the
// request-parsing 400 of the real request handler (`extra_keys`); this is stricter than the real
// server, which knows every key of the spec. Since the double keeps the text as the saved
// config, a JSON save re-renders it from the model: directives it does not model are dropped.
import { z } from 'zod';
import { LOG_LEVELS, MODELLED_KEYS, type DoubleConfig } from './config-model.ts';

const Port = z.int().min(1).max(65535);
const Listener = z.strictObject({ port: Port, address: z.string().optional() });
const Credentials = z.strictObject({ login: z.string().regex(/^[^:]+$/), password: z.string().min(1) });

/** The modelled subset of `server_config`, each key nullable (null = delete). */
const ConfigPatch = z.strictObject({
  listeners: z.strictObject({ http: z.array(Listener.extend({ api: z.boolean().optional() })).optional(), rtmp: z.array(Listener).optional() }).nullish(),
  edit_auth: Credentials.nullish(),
  view_auth: Credentials.nullish(),
  cluster_key: z.string().min(1).nullish(),
  loglevel: z.string().refine((level) => LOG_LEVELS.includes(level)).nullish(),
  config_external: z.string().min(1).nullish(),
  streams: z.array(z.strictObject({ name: z.string().min(1), inputs: z.array(z.strictObject({ url: z.string().min(1) })) })).nullish(),
});

export type JsonResult = { ok: true; config: DoubleConfig } | { ok: false; body: Record<string, unknown> };

/**
 * Applies a JSON body to `current`. With `merge` false (POST = validate) the body alone is
 * checked and returned as the parsed config.
 */
export function applyConfigJson(current: DoubleConfig, body: unknown, merge: boolean): JsonResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, body: { error: 'not_object', path: [], while: 'parsing_parameters' } };
  }
  const extra = Object.keys(body).filter((key) => !(MODELLED_KEYS as readonly string[]).includes(key));
  if (extra.length > 0) return { ok: false, body: { extra_keys: extra, name: 'request_body', while: 'parsing_parameters' } };
  const parsed = ConfigPatch.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).filter((part) => typeof part !== 'symbol');
    return { ok: false, body: { error: 'invalid_value', path, while: 'parsing_parameters' } };
  }
  const next: Record<string, unknown> = merge ? structuredClone(current) : {};
  for (const [key, value] of Object.entries(parsed.data)) {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return { ok: true, config: next as DoubleConfig };
}

/** Renders the model as config text that parseConfigText() reads back to the same model. */
export function renderConfigText(config: DoubleConfig): string {
  const lines: string[] = [];
  for (const listener of config.listeners?.http ?? []) {
    lines.push(`http ${listen(listener)}${listener.api === undefined ? ';' : ` { api ${listener.api}; }`}`);
  }
  for (const listener of config.listeners?.rtmp ?? []) lines.push(`rtmp ${listen(listener)};`);
  if (config.edit_auth) lines.push(`edit_auth ${value(config.edit_auth.login)} ${value(config.edit_auth.password)};`);
  if (config.view_auth) lines.push(`view_auth ${value(config.view_auth.login)} ${value(config.view_auth.password)};`);
  if (config.cluster_key !== undefined) lines.push(`cluster_key ${value(config.cluster_key)};`);
  if (config.loglevel !== undefined) lines.push(`loglevel ${value(config.loglevel)};`);
  if (config.config_external !== undefined) lines.push(`config_external ${value(config.config_external)};`);
  for (const stream of config.streams ?? []) {
    lines.push(`stream ${value(stream.name)} {`, ...stream.inputs.map((input) => `  input ${value(input.url)};`), '}');
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function listen(listener: { port: number; address?: string }): string {
  if (listener.address === undefined) return String(listener.port);
  return listener.address.includes(':') ? `[${listener.address}]:${listener.port}` : `${listener.address}:${listener.port}`;
}

/** Quotes values that would not read back as one word. */
function value(text: string): string {
  return /^[^\s{};"#]+$/.test(text) ? text : `"${text}"`;
}
