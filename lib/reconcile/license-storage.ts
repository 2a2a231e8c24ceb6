// The `<name>-license-storage` Secret, written by two parties: the operator
// (labels, owner, and a generated edit_auth) and the media server (its own
// keys). See lib/k8s/secret.ts for the contract. Exactly one password may ever
// exist, also when two first reconciles race: the first create wins, the
// loser re-reads; adding a missing key is guarded by resourceVersion.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, KubeApiError } from '../kube/errors.ts';
import {
  buildLicenseStorageSecret,
  buildLicenseStorageSecretSeed,
  EDIT_AUTH_KEY,
  generateEditAuth,
} from '../k8s/secret.ts';
import type { Streamer } from '../schema/streamer.ts';
import { needsApply, stampHash } from './drift.ts';

export type SecretOutcome = 'created' | 'edit-auth-added' | 'applied' | 'unchanged';

type SecretObject = KubeObject & { data?: Record<string, string> };

const MAX_ATTEMPTS = 3;

export async function ensureLicenseStorage({
  kube,
  streamer,
  random,
}: {
  kube: KubeClient;
  streamer: Streamer;
  random?: (size: number) => Uint8Array;
}): Promise<SecretOutcome> {
  const desired = stampHash(buildLicenseStorageSecret(streamer) as KubeObject);
  const key = { apiVersion: 'v1', kind: 'Secret', namespace: desired.metadata.namespace, name: desired.metadata.name };
  const generate = !streamer.spec.editAuth;

  let live = await kube.get<SecretObject>(key);
  let outcome: SecretOutcome = 'unchanged';
  for (let attempt = 1; generate && !live?.data?.[EDIT_AUTH_KEY]; attempt++) {
    if (attempt > MAX_ATTEMPTS) {
      throw new KubeApiError({ method: 'PATCH', path: key.name, statusCode: 409, reason: 'Conflict', message: 'could not add edit_auth after repeated conflicts' });
    }
    const editAuth = generateEditAuth(random);
    try {
      if (!live) {
        const seed = buildLicenseStorageSecretSeed({ streamer, editAuth }) as KubeObject;
        live = await kube.create<SecretObject>({ ...seed, metadata: desired.metadata });
        outcome = 'created';
      } else {
        // resourceVersion makes this a compare-and-swap: a concurrent writer makes it fail with 409.
        live = await kube.patch<SecretObject>(key, {
          metadata: { resourceVersion: live.metadata.resourceVersion },
          data: { [EDIT_AUTH_KEY]: Buffer.from(editAuth).toString('base64') },
        });
        outcome = 'edit-auth-added';
      }
    } catch (error) {
      if (!isConflict(error)) throw error;
      live = await kube.get<SecretObject>(key);
    }
  }
  if (needsApply(desired, live)) {
    await kube.apply(desired, { force: true });
    if (outcome === 'unchanged') outcome = 'applied';
  }
  return outcome;
}
