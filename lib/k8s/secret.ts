// The `<name>-license-storage` Secret: the media server's own state store
// (FLUSSONIC_SECRETS_STORAGE=k8s://<name>-license-storage) and home of the generated edit_auth.
//
// Contract, because two writers share this Secret:
// - The operator server-side applies `buildLicenseStorageSecret` every reconcile. It holds
//   metadata only (labels, owner reference), so the operator's field manager never owns a
//   data key and an apply can never remove or overwrite what the media server wrote.
// - When `spec.editAuth` is unset, the operator creates the Secret once with
//   `buildLicenseStorageSecretSeed` (a plain create: 409 Already Exists means keep what is
//   there). If the Secret exists without `edit_auth`, it adds only that key. An existing
//   `edit_auth` is never regenerated: the spec promises a stable password.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { childMetadata, childNames } from './meta.ts';

/** The Secret key holding `<login>:<password>` (the spec's "edit_auth key"). */
export const EDIT_AUTH_KEY = 'edit_auth';
/** Login of generated credentials. */
export const EDIT_AUTH_LOGIN = 'admin';
/** 24 bytes = 192 bits from a CSPRNG; base64url has no ':' or spaces to break the format. */
const PASSWORD_BYTES = 24;

/** The Secret as the operator applies it: metadata only (see the contract above). */
export function buildLicenseStorageSecret(streamer: Streamer): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(streamer, childNames(streamer).licenseStorageSecret),
  };
}

/** The Secret to create once when it does not exist, carrying a generated `edit_auth`. */
export function buildLicenseStorageSecretSeed({ streamer, editAuth }: { streamer: Streamer; editAuth: string }): V1Secret {
  return {
    ...buildLicenseStorageSecret(streamer),
    type: 'Opaque',
    stringData: { [EDIT_AUTH_KEY]: editAuth },
  };
}

/**
 * New API credentials, `admin:<password>`, the password 192 random bits in base64url.
 * `random` defaults to node:crypto's CSPRNG; tests pass a deterministic one.
 */
export function generateEditAuth(random: (size: number) => Uint8Array = randomBytes): string {
  const bytes = random(PASSWORD_BYTES);
  if (bytes.length !== PASSWORD_BYTES) throw new RangeError(`random source returned ${bytes.length} bytes, expected ${PASSWORD_BYTES}`);
  return `${EDIT_AUTH_LOGIN}:${Buffer.from(bytes).toString('base64url')}`;
}
