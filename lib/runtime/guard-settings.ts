// The request guard's settings, from the environment the Knative Service sets
// (knative/service.yaml, func.yaml; docs/install.md "Authenticated delivery"):
//   EVENT_AUTH       oidc: every delivery needs a Knative OIDC token (the install's default);
//                    none: deliveries are not authenticated (a cluster without the feature, the
//                    local sandbox). Unset means none, and the process says so once at start.
//                    Any other value refuses every delivery, naming the value (fail closed).
//   EVENT_AUDIENCE   the audience the Triggers' subscriber.audience names
//                    (default serving.knative.dev/service/<namespace>/<K_SERVICE>).
//   EVENT_POLICY     <namespace>/<name> of the EventPolicy whose status.from lists the senders.
//   EVENT_ISSUER     the cluster's service-account issuer; default: the API server's discovery.
//   MAX_BODY_BYTES   the body limit (default 2 MiB, request-guard.ts).
import type { KubeTransport } from '../kube/client.ts';
import { createEventVerifier, discoverIssuer, EventAuthError, eventPolicySubjects, type EventVerifier } from './event-auth.ts';
import { DEFAULT_MAX_BODY_BYTES, type GuardOptions } from './request-guard.ts';
import type { Logger } from './log.ts';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** A verifier that refuses everything, with the reason (a misconfiguration must not pass silently). */
const refuseAll = (message: string): EventVerifier => ({
  reviews: 0,
  verify: async () => {
    throw new EventAuthError('NotAuthenticated', message);
  },
});

export function guardOptionsFromEnv({ env = process.env, transport, log, namespace }: {
  env?: NodeJS.ProcessEnv;
  transport: () => Promise<KubeTransport>;
  log: Logger;
  /** This Pod's namespace (default: the ServiceAccount's namespace file, read by the caller). */
  namespace?: string;
}): GuardOptions {
  const limit = Number(env.MAX_BODY_BYTES);
  const maxBodyBytes = env.MAX_BODY_BYTES && Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_BODY_BYTES;
  const mode = env.EVENT_AUTH ?? '';
  if (mode === '' || mode === 'none') {
    log({ function: 'request-guard', outcome: 'unauthenticated-delivery', detail: `EVENT_AUTH=${mode || '(unset)'}: deliveries are not authenticated`, maxBodyBytes });
    return { maxBodyBytes, log };
  }
  if (mode !== 'oidc') {
    return { maxBodyBytes, log, verifier: refuseAll(`EVENT_AUTH=${mode} is neither oidc nor none; every delivery is refused`) };
  }
  const ns = namespace ?? 'streamer-operator-system';
  const audience = env.EVENT_AUDIENCE || `serving.knative.dev/service/${ns}/${env.K_SERVICE ?? 'streamer-operator'}`;
  const [policyNamespace, policyName] = (env.EVENT_POLICY || `${ns}/streamer-operator`).split('/');
  if (!policyNamespace || !policyName) {
    return { maxBodyBytes, log, verifier: refuseAll(`EVENT_POLICY=${env.EVENT_POLICY} is not <namespace>/<name>; every delivery is refused`) };
  }
  log({ function: 'request-guard', outcome: 'oidc-delivery', audience, eventPolicy: `${policyNamespace}/${policyName}`, maxBodyBytes });
  return {
    maxBodyBytes,
    log,
    verifier: createEventVerifier({
      transport,
      audience,
      issuer: discoverIssuer(transport, env.EVENT_ISSUER || undefined),
      allowedSubjects: eventPolicySubjects({ transport, namespace: policyNamespace, name: policyName }),
    }),
  };
}

export { SA_NAMESPACE_FILE };
