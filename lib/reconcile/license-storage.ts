// The `<name>-license-storage` Secret, written by two parties: the operator
// (labels, owner, and a generated edit_auth) and the media server (its own
// keys). See lib/k8s/secret.ts for the contract. Exactly one password may ever
// exist, also when two first reconciles race: the first create wins, the
// loser re-reads; adding a missing key is guarded by resourceVersion.
// A Secret of that name this Streamer does not control is never touched
// (ChildConflictError); one it controls is adopted as it is, its edit_auth and
// every other key kept, whoever created it (e.g. Flussonic's own operator).
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, KubeApiError } from '../kube/errors.ts';
import {
  buildLicenseStorageSecret,
  buildLicenseStorageSecretSeed,
  EDIT_AUTH_KEY,
  generateEditAuth,
} from '../k8s/secret.ts';
import type { Streamer } from '../schema/streamer.ts';
import { ChildConflictError, conflictOf } from './child-conflict.ts';
import { needsApply, stampHash } from './drift.ts';

export type SecretOutcome = 'created' | 'edit-auth-added' | 'applied' | 'unchanged';

type SecretObject = KubeObject & { data?: Record<string, string> };

const MAX_ATTEMPTS = 3;

/** @throws ChildConflictError when a Secret of that name exists and is not controlled by this Streamer. */
export async function ensureLicenseStorage({
  kube,
  streamer,
  random,
  beforeCreate = async () => undefined,
}: {
  kube: KubeClient;
  streamer: Streamer;
  random?: (size: number) => Uint8Array;
  /** Runs before the Secret is created (not before updates): may throw to stop, e.g. when the Streamer is gone. */
  beforeCreate?: () => Promise<void>;
}): Promise<SecretOutcome> {
  const desired = stampHash(buildLicenseStorageSecret(streamer) as KubeObject);
  const key = { apiVersion: 'v1', kind: 'Secret', namespace: desired.metadata.namespace, name: desired.metadata.name };
  const generate = !streamer.spec.editAuth;

  const notTaken = (object: SecretObject | null) => {
    const conflict = conflictOf(object, streamer);
    if (conflict) throw new ChildConflictError([conflict]);
    return object;
  };
  let live = notTaken(await kube.get<SecretObject>(key));
  let outcome: SecretOutcome = 'unchanged';
  for (let attempt = 1; generate && !live?.data?.[EDIT_AUTH_KEY]; attempt++) {
    if (attempt > MAX_ATTEMPTS) {
      throw new KubeApiError({ method: 'PATCH', path: key.name, statusCode: 409, reason: 'Conflict', message: 'could not add edit_auth after repeated conflicts' });
    }
    const editAuth = generateEditAuth(random);
    try {
      if (!live) {
        await beforeCreate();
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
      live = notTaken(await kube.get<SecretObject>(key));
    }
  }
  if (!live) await beforeCreate();
  if (needsApply(desired, live)) {
    await kube.apply(desired, { force: true });
    if (outcome === 'unchanged') outcome = 'applied';
  }
  return outcome;
}
