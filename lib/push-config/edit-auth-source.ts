// Where push-config gets the media server's API credentials: the same source the Pod's
// FLUSSONIC_EDIT_AUTH comes from (lib/k8s/env.ts): `spec.editAuth` when set, else key
// `edit_auth` of the `<name>-license-storage` Secret. The value never leaves this module's
// callers: errors name the object and key, never the value.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { childNames } from '../k8s/meta.ts';
import { EDIT_AUTH_KEY } from '../k8s/secret.ts';
import type { EnvVarSource } from '../schema/env-var.ts';
import type { Streamer } from '../schema/streamer.ts';

export type EditAuthValue = {
  /** `login:password`. Secret: send it, never log or store it. */
  value: string;
  /** resourceVersion of the object it was read from: changes when someone edits it. */
  version: string;
};

/** The credentials cannot be read (object or key missing, or a source the operator cannot read). */
export class EditAuthUnavailableError extends Error {
  override name = 'EditAuthUnavailableError' as const;
  readonly code = 'EDIT_AUTH_UNAVAILABLE' as const;
}

type DataObject = KubeObject & { data?: Record<string, string> };

/**
 * Reads edit_auth for `streamer`.
 * @throws EditAuthUnavailableError when it is missing or comes from a fieldRef, fileKeyRef or
 *   resourceFieldRef (values only the kubelet can resolve); KubeApiError/KubeNetworkError when
 *   the read itself fails.
 */
export async function readEditAuth({ kube, streamer }: { kube: KubeClient; streamer: Streamer }): Promise<EditAuthValue> {
  const source: EnvVarSource = streamer.spec.editAuth ?? {
    secretKeyRef: { name: childNames(streamer).licenseStorageSecret, key: EDIT_AUTH_KEY },
  };
  const namespace = streamer.metadata.namespace;
  if (source.secretKeyRef) {
    const { name, key } = source.secretKeyRef;
    const secret = name ? await kube.get<DataObject>({ apiVersion: 'v1', kind: 'Secret', namespace, name }) : null;
    return editAuthFromSecret(secret, { name, key });
  }
  if (source.configMapKeyRef) {
    const { name, key } = source.configMapKeyRef;
    const map = name ? await kube.get<DataObject>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name }) : null;
    const value = map?.data?.[key];
    if (value === undefined || value === '') throw missing(`ConfigMap ${name}`, key, map !== null);
    return { value, version: versionOf(map) };
  }
  throw new EditAuthUnavailableError('spec.editAuth must be a secretKeyRef or configMapKeyRef for the operator to reach the media server API');
}

/**
 * edit_auth from a Secret as read or listed (null: not found), for the key `ref` names. Pure.
 * @throws EditAuthUnavailableError when the Secret or its key is missing or empty.
 */
export function editAuthFromSecret(secret: KubeObject | null, { name, key }: { name?: string; key: string }): EditAuthValue {
  const encoded = (secret as DataObject | null)?.data?.[key];
  return { value: decode(encoded, `Secret ${name}`, key, secret !== null), version: versionOf(secret) };
}

function decode(encoded: string | undefined, where: string, key: string, found: boolean): string {
  const value = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
  if (value === '') throw missing(where, key, found);
  return value;
}

function missing(where: string, key: string, found: boolean): EditAuthUnavailableError {
  return new EditAuthUnavailableError(found ? `${where} has no key ${key}` : `${where} was not found`);
}

function versionOf(object: KubeObject | null): string {
  return object?.metadata.resourceVersion ?? '';
}
