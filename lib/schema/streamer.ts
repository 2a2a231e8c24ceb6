// The Streamer custom resource (media.flussonic.com/v1alpha1) as zod schemas: the single source
// of its TypeScript types. crds/streamer.yaml is the same schema for the API server;
// test/schema/streamer.test.ts proves the two agree field by field.
//
// Parse a Streamer once where it enters (a request, an event, an API response) with
// `Streamer.safeParse`, then pass the typed value around. The spec is parsed strictly; metadata
// (the API server's) loosely; the status leniently (see StreamerStatus).
import { z } from 'zod';
import { Condition } from './condition.ts';
import { EnvVar, EnvVarSource } from './env-var.ts';

export const STREAMER_GROUP = 'media.flussonic.com';
export const STREAMER_VERSION = 'v1alpha1';
export const STREAMER_API_VERSION = `${STREAMER_GROUP}/${STREAMER_VERSION}` as const;
export const STREAMER_KIND = 'Streamer';
export const STREAMER_PLURAL = 'streamers';

/** Media server log levels the CRD accepts. */
export const LogLevel = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LogLevel)[number];

/** The media server image used when `spec.image` is unset. */
export const DEFAULT_IMAGE = 'flussonic/flussonic';

const Port = z.int().min(1).max(65535);

/** configExtra's budget: one ConfigMap (1 MiB) less 1 KiB for the operator's base config. */
export const CONFIG_EXTRA_MAX_CHARS = 1_047_552;
const StringMap = z.record(z.string(), z.string());

/**
 * An extra volume: `name`, `mountPath` and exactly one core/v1 volume source (hostPath,
 * persistentVolumeClaim, ...). The source is kept as given: the API server has already
 * validated it against the core/v1 schemas embedded in the CRD.
 */
export const StreamerVolume = z.looseObject({
  /** A Pod volume name (DNS-1123 label); the CRD also checks its form. */
  name: z.string().max(63),
  /** Absolute, at most PATH_MAX; never the operator's config directory (the CRD's rules). */
  mountPath: z.string().max(4096),
});
export type StreamerVolume = z.infer<typeof StreamerVolume>;

/** The desired state of one streamer. See crds/streamer.yaml for each field's contract. */
export const StreamerSpec = z.object({
  /** Image tag, e.g. "v26.01-5". Required. */
  version: z.string(),
  /** The node the single Pod runs on. Required. */
  nodeName: z.string(),
  /** @default 'flussonic/flussonic' */
  image: z.string().default(DEFAULT_IMAGE),
  env: z.array(EnvVar).optional(),
  /** Payload port on the node; the container payload port follows it (default 80). */
  hostPort: Port.optional(),
  /** Exposes the API port (81) on the node. */
  adminHostPort: Port.optional(),
  publicUrl: z.string().optional(),
  licenseKey: EnvVarSource.optional(),
  editAuth: EnvVarSource.optional(),
  configExternalUrl: z.string().optional(),
  configExternalAuth: EnvVarSource.optional(),
  clusterKey: EnvVarSource.optional(),
  logLevel: z.enum(LogLevel).optional(),
  /** At most CONFIG_EXTRA_MAX_CHARS in keys, values and framing (one ConfigMap; the CRD checks it). */
  configExtra: z.record(z.string(), z.string().max(CONFIG_EXTRA_MAX_CHARS)).optional(),
  volumes: z.array(StreamerVolume).max(1000).optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  selectorLabels: StringMap.optional(),
  nvidiaGpuCount: z.int32().optional(),
});
export type StreamerSpec = z.infer<typeof StreamerSpec>;
/** A spec as written in a manifest (defaults not yet applied). */
export type StreamerSpecInput = z.input<typeof StreamerSpec>;

/**
 * What push-config last sent to the media server API (status.configPush, owned by
 * push-config). Holds no secret: a hash of the config text, the Pod's UID and the
 * resourceVersion of the object the edit_auth credentials came from.
 */
export const ConfigPush = z.object({
  /** SHA-256 of the configuration text, "sha256:<hex>". */
  hash: z.string(),
  podUID: z.string(),
  editAuthVersion: z.string(),
});
export type ConfigPush = z.infer<typeof ConfigPush>;

/** The status exactly as the CRD declares it (test/schema/streamer.test.ts compares the two). */
export const DeclaredStreamerStatus = z.looseObject({
  ready: z.boolean().optional(),
  observedGeneration: z.int().min(0).optional(),
  conditions: z.array(Condition).optional(),
  configPush: ConfigPush.optional(),
});

/**
 * The status as the functions parse it: leniently. The spec says what to do, the status only
 * what was seen, and other tools may write it too. A malformed field reads as absent and a
 * malformed condition is dropped (the function owning that type then writes a good one), so one
 * bad write never makes the functions ignore the Streamer.
 */
export const StreamerStatus = z.looseObject({
  ready: DeclaredStreamerStatus.shape.ready.catch(undefined),
  observedGeneration: DeclaredStreamerStatus.shape.observedGeneration.catch(undefined),
  conditions: z
    .array(z.unknown())
    .transform((items) => items.flatMap((item) => {
      const parsed = Condition.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    }))
    .optional()
    .catch(undefined),
  configPush: DeclaredStreamerStatus.shape.configPush.catch(undefined),
});
export type StreamerStatus = z.infer<typeof StreamerStatus>;

/**
 * Metadata as the API server returns it. `namespace` and `uid` are required because every
 * child needs them (namespace, ownerReference); a stored Streamer always has both.
 */
export const StreamerMetadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  uid: z.string().min(1),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
});
export type StreamerMetadata = z.infer<typeof StreamerMetadata>;

/** A stored Streamer, as read from the API server or an ApiServerSource event. */
export const Streamer = z.looseObject({
  apiVersion: z.literal(STREAMER_API_VERSION),
  kind: z.literal(STREAMER_KIND),
  metadata: StreamerMetadata,
  /** Parsed strictly: a spec the schema refuses is not acted on. */
  spec: StreamerSpec,
  status: StreamerStatus.optional().catch(undefined),
});
export type Streamer = z.infer<typeof Streamer>;
