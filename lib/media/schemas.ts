// zod schemas for what the media server sends back, from its OpenAPI spec
// (shared/upstream/flussonic-openapi.json, 23.05; flussonic-api.md §§1–3). Tolerant on
// purpose: `z.looseObject` keeps fields we do not know, and every field the spec leaves
// optional or nullable is `.nullish()`, so a newer server does not break us.
import { z } from 'zod';

/** `config_path_segment`: a key or an index in a config path. */
const ConfigPathSegment = z.union([z.string(), z.number()]);

/**
 * `config_error_status`: the 400 body of GET/PUT/POST /config, and `stats.config_error`.
 * `config` (the partial parse) is left untyped on purpose: it may echo secrets and we never read it.
 */
export const ConfigErrorStatus = z.looseObject({
  error: z.string().nullish(),
  line: z.number().nullish(),
  col: z.number().nullish(),
  first_error_line: z.number().nullish(),
  first_error_col: z.number().nullish(),
  path: z.array(ConfigPathSegment).nullish(),
});
export type ConfigErrorStatus = z.infer<typeof ConfigErrorStatus>;

/** `server_config`: the answer of PUT /config (updated config) and POST /config (parsed config). */
export const ServerConfig = z.looseObject({});
export type ServerConfig = z.infer<typeof ServerConfig>;

/** `server_stats_whoami`: the answer of GET /monitoring/liveness and /monitoring/readiness. */
export const ServerStatsWhoami = z.looseObject({
  server_version: z.string().nullish(),
  build: z.number().nullish(),
  /** Server time, UTC milliseconds. */
  now: z.number().nullish(),
  /** Boot time, UTC seconds. */
  started_at: z.number().nullish(),
});
export type ServerStatsWhoami = z.infer<typeof ServerStatsWhoami>;

/** `server_stats_streamer_status` values known in spec 23.05; others are accepted as plain strings. */
export const StreamerStatus = ['no_config', 'broken_config', 'license_failure', 'no_license', 'starting', 'running'] as const;
export type StreamerStatus = (typeof StreamerStatus)[number];

/** `server_stats`: the answer of GET /config/stats (only the fields an operator reads are typed). */
export const ServerStats = z.looseObject({
  ...ServerStatsWhoami.shape,
  /** `starting`, then `running`; anything else is a problem the server cannot repair. */
  streamer_status: z.string().nullish(),
  /** The error of the config currently on disk, if it is broken. */
  config_error: ConfigErrorStatus.nullish(),
  text_alerts: z.record(z.string(), z.string()).nullish(),
  /** Comparable, increasing version of the running config, e.g. [1636709231, 4]. */
  config_version: z.array(z.number()).nullish(),
  hostname: z.string().nullish(),
  id: z.string().nullish(),
});
export type ServerStats = z.infer<typeof ServerStats>;

/** Simple error body `{"error": "<atom>"}` and the JSON:API form `{"errors": [{code, title}]}` (§2.3). */
export const ErrorBody = z.looseObject({
  error: z.unknown().optional(),
  errors: z.array(z.looseObject({ code: z.unknown().optional() })).nullish(),
});
