// Keeps the escaped configExternalAuth userinfo (lib/k8s/config-external-auth.ts) in the
// `<name>-license-storage` Secret, under a field manager of its own that owns only that one
// data key: the operator's metadata apply and the media server's own keys are untouched.
// Reads the source each reconcile when configExternalAuth names a Secret or ConfigMap key,
// writes only when the escaped value differs (an unchanged Streamer costs zero writes).
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { CONFIG_EXTERNAL_AUTH_KEY, escapedAuthSource, escapeUserinfo } from '../k8s/config-external-auth.ts';
import { childNames } from '../k8s/meta.ts';
import type { Streamer } from '../schema/streamer.ts';

export const CONFIG_EXTERNAL_AUTH_FIELD_MANAGER = 'streamer-operator-config-external-auth';

export type ConfigExternalAuthOutcome =
  | { kind: 'not-used' | 'unchanged' | 'written' | 'removed' }
  /** The source is missing and not optional: the Pod cannot start; `message` names it (never its value). */
  | { kind: 'unavailable'; message: string };

type DataObject = KubeObject & { data?: Record<string, string> };

export async function syncConfigExternalAuth({ kube, streamer }: { kube: KubeClient; streamer: Streamer }): Promise<ConfigExternalAuthOutcome> {
  const source = escapedAuthSource(streamer);
  if (!source) return { kind: 'not-used' };
  const { namespace } = streamer.metadata;
  const secretKey = { apiVersion: 'v1', kind: 'Secret', namespace, name: childNames(streamer).licenseStorageSecret };
  const [storage, raw] = await Promise.all([kube.get<DataObject>(secretKey), readSource(kube, namespace, source)]);
  if (!storage) return { kind: 'unavailable', message: `Secret ${secretKey.name} does not exist yet` };
  const stored = storage.data?.[CONFIG_EXTERNAL_AUTH_KEY];
  const desired = raw === undefined ? undefined : Buffer.from(escapeUserinfo(raw)).toString('base64');
  if (stored === desired) return raw === undefined && !source.optional ? unavailable(source) : { kind: 'unchanged' };
  // Server-side apply under this manager alone: sending the key owns it; leaving it out removes it.
  await kube.apply(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretKey.name, namespace }, ...(desired ? { data: { [CONFIG_EXTERNAL_AUTH_KEY]: desired } } : {}) },
    { force: true, fieldManager: CONFIG_EXTERNAL_AUTH_FIELD_MANAGER },
  );
  if (desired === undefined) return source.optional ? { kind: 'removed' } : unavailable(source);
  return { kind: 'written' };
}

function unavailable(source: { kind: string; name: string; key: string }): ConfigExternalAuthOutcome {
  return { kind: 'unavailable', message: `spec.configExternalAuth: ${source.kind} ${source.name || '(no name)'} has no key ${source.key}` };
}

/** The referenced value as text, or undefined when the object or key does not exist. */
async function readSource(kube: KubeClient, namespace: string, source: { kind: 'Secret' | 'ConfigMap'; name: string; key: string }): Promise<string | undefined> {
  if (!source.name) return undefined;
  const object = await kube.get<DataObject & { binaryData?: Record<string, string> }>({ apiVersion: 'v1', kind: source.kind, namespace, name: source.name });
  if (!object) return undefined;
  if (source.kind === 'Secret') {
    const value = object.data?.[source.key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }
  return object.data?.[source.key] ?? (object.binaryData?.[source.key] !== undefined ? Buffer.from(object.binaryData[source.key] as string, 'base64').toString('utf8') : undefined);
}
