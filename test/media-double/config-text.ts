// Config text -> the double's `server_config` model, or a `config_error_status` body.
// Beyond the syntax (config-syntax.ts), the double checks the directives it models:
// - `http` / `rtmp <port | address:port>` — port 1..65535, else `bad_port` at the value;
//   inside an `http { … }` block, `api true|false` (else `bad_value`);
// - `edit_auth` / `view_auth <login> <password>` — two non-empty values, no `:` in the login, else `bad_auth`;
// - `cluster_key <key>`, `config_external <url>` — exactly one value, else `bad_value`;
// - `loglevel <level>` — one of the spec's levels (`warn` is not one), else `bad_loglevel`;
// - `stream <name> { input <url>; … }` — a name and a block, else `bad_stream`; each input URL
//   must look like `scheme://…`, else `bad_url` at the URL (as in the spec's example, where
//   `http 80; stream mystream { input ""; }` fails at line 1, column 34).
// Any other well-formed directive is accepted and kept in the text but not in the JSON.
import { endCol, parseConfigSyntax, type Statement, type Token } from './config-syntax.ts';
import { LOG_LEVELS, type ConfigErrorBody, type DoubleConfig, type HttpListener, type Listener } from './config-model.ts';

export type ConfigTextResult = { ok: true; config: DoubleConfig } | { ok: false; error: ConfigErrorBody };

/** Thrown inside interpret() to stop at the first bad directive; caught in parseConfigText(). */
class ConfigFailure extends Error {
  readonly body: ConfigErrorBody;
  constructor(error: string, at: { line: number; col: number }, path: (string | number)[] | null, config: DoubleConfig | null) {
    super(error);
    this.body = { error, line: at.line, col: at.col, path, config, detail: '' };
  }
}

/** Parses and checks config text the way the double's POST/PUT /config do. */
export function parseConfigText(text: string): ConfigTextResult {
  const syntax = parseConfigSyntax(text);
  if (!syntax.ok) return { ok: false, error: { ...syntax.error, path: null, config: null, detail: '' } };
  const config: DoubleConfig = {};
  try {
    for (const statement of syntax.value) interpret(statement, config);
  } catch (error) {
    if (error instanceof ConfigFailure) return { ok: false, error: error.body };
    throw error;
  }
  return { ok: true, config };
}

function interpret(statement: Statement, config: DoubleConfig): void {
  const [directive, ...args] = statement.words as [Token, ...Token[]];
  const fail = (error: string, at: { line: number; col: number }, path: (string | number)[] | null = null): never => {
    throw new ConfigFailure(error, at, path, structuredClone(config));
  };
  const afterDirective = { line: directive.line, col: endCol(directive) };
  switch (directive.text) {
    case 'http':
    case 'rtmp': {
      const listeners = (config.listeners ??= {});
      const list: Listener[] = (listeners[directive.text] ??= []);
      const path = ['listeners', directive.text, list.length, 'port'];
      if (args.length !== 1) fail('bad_port', args[1] ?? afterDirective, path);
      const listener: HttpListener = listenSpec(args[0] as Token) ?? fail('bad_port', args[0] as Token, path);
      if (directive.text === 'http') {
        for (const inner of statement.block ?? []) {
          const [name, value] = inner.words;
          if (name?.text !== 'api') continue;
          if (value?.text !== 'true' && value?.text !== 'false') return fail('bad_value', value ?? name, ['listeners', 'http', list.length, 'api']);
          listener.api = value.text === 'true';
        }
      }
      list.push(listener);
      return;
    }
    case 'edit_auth':
    case 'view_auth':
      if (args.length !== 2 || !validCredentials(args[0] as Token, args[1] as Token)) fail('bad_auth', directive, [directive.text]);
      config[directive.text] = { login: (args[0] as Token).text, password: (args[1] as Token).text };
      return;
    case 'cluster_key':
    case 'config_external':
      if (args.length !== 1) fail('bad_value', args[1] ?? afterDirective, [directive.text]);
      config[directive.text] = (args[0] as Token).text;
      return;
    case 'loglevel': {
      const level = args[0];
      if (args.length !== 1 || level === undefined) return fail('bad_loglevel', args[1] ?? afterDirective, ['loglevel']);
      if (!LOG_LEVELS.includes(level.text)) fail('bad_loglevel', level, ['loglevel']);
      config.loglevel = level.text;
      return;
    }
    case 'stream': {
      const streams = (config.streams ??= []);
      const name = args[0];
      if (args.length !== 1 || name === undefined || statement.block === undefined) return fail('bad_stream', directive, ['streams', streams.length]);
      const stream = { name: name.text, inputs: [] as { url: string }[] };
      for (const inner of statement.block) {
        const [key, url] = inner.words;
        if (key?.text !== 'input') continue;
        const path = ['streams', streams.length, 'inputs', stream.inputs.length, 'url', 'input_url'];
        stream.inputs.push({ url: url?.text ?? '' });
        if (url === undefined || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url.text)) {
          streams.push(stream);
          fail('bad_url', url ?? { line: key.line, col: endCol(key) }, path);
        }
      }
      streams.push(stream);
      return;
    }
    default:
      return; // a directive the double does not model: accepted, text only
  }
}

function validCredentials(login: Token, password: Token): boolean {
  return login.text !== '' && !login.text.includes(':') && password.text !== '';
}

/** `81`, `0.0.0.0:81` or `[::1]:81` -> listener; undefined when the port is not 1..65535. */
function listenSpec(token: Token): HttpListener | undefined {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(token.text);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const address = match[1]?.replace(/^\[(.*)\]$/, '$1');
  return address === undefined ? { port } : { port, address };
}
