// zod mirrors of the core/v1 EnvVarSource and EnvVar shapes embedded in the Streamer CRD.
// The CRD (crds/streamer.yaml) holds the same schemas; test/schema/streamer.test.ts checks
// that the two agree field by field.
import { z } from 'zod';

/** core/v1 SecretKeySelector / ConfigMapKeySelector. `name` defaults to '' as in the CRD. */
const KeySelector = z.object({
  key: z.string(),
  name: z.string().default(''),
  optional: z.boolean().optional(),
});

const ObjectFieldSelector = z.object({
  apiVersion: z.string().optional(),
  fieldPath: z.string(),
});

/**
 * core/v1 ResourceFieldSelector. `divisor` is an int-or-string quantity in the API; it is
 * normalised to a string here because that is how @kubernetes/client-node types it.
 */
const ResourceFieldSelector = z.object({
  containerName: z.string().optional(),
  divisor: z.union([z.int(), z.string()]).transform(String).optional(),
  resource: z.string(),
});

const FileKeySelector = z.object({
  key: z.string(),
  optional: z.boolean().default(false),
  path: z.string(),
  volumeName: z.string(),
});

/**
 * Where a value comes from: the shape of a container env var's `valueFrom`. Used by the
 * Streamer's `licenseKey`, `editAuth`, `configExternalAuth` and `clusterKey`, so the secret
 * values are wired into the Pod by reference and never copied.
 */
export const EnvVarSource = z.object({
  configMapKeyRef: KeySelector.optional(),
  fieldRef: ObjectFieldSelector.optional(),
  fileKeyRef: FileKeySelector.optional(),
  resourceFieldRef: ResourceFieldSelector.optional(),
  secretKeyRef: KeySelector.optional(),
});
export type EnvVarSource = z.infer<typeof EnvVarSource>;

/** A container environment variable, as in a Pod spec. */
export const EnvVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: EnvVarSource.optional(),
});
export type EnvVar = z.infer<typeof EnvVar>;
