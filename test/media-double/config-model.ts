// The part of the media server's `server_config` JSON that the double understands.
// Field names and shapes follow components.schemas.server_config of the OpenAPI spec.

export type Listener = { port: number; address?: string };
export type HttpListener = Listener & { api?: boolean };
export type Credentials = { login: string; password: string };
export type StreamConfig = { name: string; inputs: { url: string }[] };

export type DoubleConfig = {
  listeners?: { http?: HttpListener[]; rtmp?: Listener[] };
  edit_auth?: Credentials;
  view_auth?: Credentials;
  cluster_key?: string;
  loglevel?: string;
  config_external?: string;
  streams?: StreamConfig[];
};

/** Top-level keys the double models; a JSON PUT with any other key is answered 400 extra_keys. */
export const MODELLED_KEYS = ['listeners', 'edit_auth', 'view_auth', 'cluster_key', 'loglevel', 'config_external', 'streams'] as const;

/** `loglevel` values of the spec (components.schemas.loglevel). Note: `warn` is not one. */
export const LOG_LEVELS: readonly string[] = ['none', 'debug', 'info', 'notice', 'warning', 'error', 'alert', 'critical'];

/** `config_error_status` as the double sends it (400 on /config). */
export type ConfigErrorBody = {
  error: string;
  line: number | null;
  col: number | null;
  path: (string | number)[] | null;
  /** What was parsed before the error, like the real server's partial config. */
  config: DoubleConfig | null;
  detail: string;
};
