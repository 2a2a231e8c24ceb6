// The media server container's environment. The operator's variables come first and
// `spec.env` after them, so user values can interpolate ours, e.g. "$(FLUSSONIC_HOSTNAME)"
// (Kubernetes expands $(VAR) only for variables defined earlier in the list).
//
// Every secret is wired by reference (valueFrom), never copied into the Pod spec.
// Names are the ones seen in Flussonic's own manifests (reference/flussonic-api.md §4).
import type { V1EnvVar } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { CONFIG_EXTERNAL_AUTH_KEY, escapedAuthSource } from './config-external-auth.ts';
import { childNames } from './meta.ts';
import { EDIT_AUTH_KEY } from './secret.ts';

export const ENV = {
  /** The node name: a stable hostname for licensing and routing. */
  hostname: 'FLUSSONIC_HOSTNAME',
  /** Same value, newer prefix; Central's samples interpolate $(STREAMER_HOSTNAME). */
  streamerHostname: 'STREAMER_HOSTNAME',
  /** `k8s://<secret>`: the Secret the media server keeps its own state in. */
  secretsStorage: 'FLUSSONIC_SECRETS_STORAGE',
  /** The container has no privileges to tune the host network; tell the server not to try. */
  noNetTuning: 'DO_NOT_DO_NET_TUNING',
  licenseKey: 'LICENSE_KEY',
  /** `<login>:<password>` for the API. */
  editAuth: 'FLUSSONIC_EDIT_AUTH',
  /** External config URL, credentials as its userinfo. */
  configExternal: 'FLUSSONIC_CONFIG_EXTERNAL',
  /**
   * Operator-internal: holds the configExternalAuth secret so FLUSSONIC_CONFIG_EXTERNAL can
   * reference it as $(...) instead of containing it.
   */
  configExternalAuth: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH',
  /** Operator-internal: which Secret or ConfigMap key the escaped configExternalAuth came from. */
  configExternalAuthSource: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH_SOURCE',
  /**
   * No public source names a cluster-key variable; this follows the FLUSSONIC_<DIRECTIVE>
   * pattern of FLUSSONIC_EDIT_AUTH / FLUSSONIC_CONFIG_EXTERNAL (directive `cluster_key`).
   */
  clusterKey: 'FLUSSONIC_CLUSTER_KEY',
} as const;

/**
 * The container env: FLUSSONIC_HOSTNAME, STREAMER_HOSTNAME, FLUSSONIC_SECRETS_STORAGE,
 * DO_NOT_DO_NET_TUNING, LICENSE_KEY (if licenseKey), FLUSSONIC_EDIT_AUTH (spec.editAuth, else
 * key `edit_auth` of `<name>-license-storage`), the config external pair (if
 * configExternalUrl), FLUSSONIC_CLUSTER_KEY (if clusterKey), then `spec.env` merged by
 * `mergeUserEnv` (a user variable named like one of ours replaces ours; one name, one entry).
 *
 * `logLevel` is deliberately absent: it is written into the config (media-server-config.ts)
 * so that changing it is a hot change.
 */
export function buildEnv(streamer: Streamer): V1EnvVar[] {
  const { spec } = streamer;
  const names = childNames(streamer);
  const env: V1EnvVar[] = [
    { name: ENV.hostname, valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: ENV.streamerHostname, valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: ENV.secretsStorage, value: `k8s://${names.licenseStorageSecret}` },
    { name: ENV.noNetTuning, value: 'true' },
  ];
  if (spec.licenseKey) env.push({ name: ENV.licenseKey, valueFrom: spec.licenseKey });
  env.push({
    name: ENV.editAuth,
    valueFrom: spec.editAuth ?? {
      secretKeyRef: { name: names.licenseStorageSecret, key: EDIT_AUTH_KEY, optional: false },
    },
  });
  if (spec.configExternalUrl) {
    if (spec.configExternalAuth) {
      // Escaped by the operator when it can read the value (config-external-auth.ts).
      const escaped = escapedAuthSource(streamer);
      const valueFrom = escaped
        ? { secretKeyRef: { name: names.licenseStorageSecret, key: CONFIG_EXTERNAL_AUTH_KEY, optional: escaped.optional } }
        : spec.configExternalAuth;
      env.push({ name: ENV.configExternalAuth, valueFrom });
      // Names the source (never its value), so pointing configExternalAuth elsewhere changes
      // the pod template and restarts the Pod, as every configExternal* change does.
      if (escaped) env.push({ name: ENV.configExternalAuthSource, value: `${escaped.kind} ${escaped.name} key ${escaped.key}` });
      env.push({ name: ENV.configExternal, value: withUserinfo(spec.configExternalUrl, `$(${ENV.configExternalAuth})`) });
    } else {
      env.push({ name: ENV.configExternal, value: spec.configExternalUrl });
    }
  }
  if (spec.clusterKey) env.push({ name: ENV.clusterKey, valueFrom: spec.clusterKey });
  return mergeUserEnv(env, spec.env ?? []);
}

/**
 * Names of the operator's variables that spec.env may not replace (the CRD refuses them, see
 * crds/streamer.yaml): push-config authenticates with the credentials the operator wires into
 * FLUSSONIC_EDIT_AUTH, so another value would lock the operator out; spec.editAuth sets them.
 */
export const IRREPLACEABLE_ENV: readonly string[] = [ENV.editAuth];

/**
 * The documented convergence rule for `spec.env` (docs/bad-input.md), instead of refusing
 * Streamers that work wherever a container's env may repeat a name:
 * - a user variable with the name of one the operator sets replaces the operator's entry in
 *   the operator's place, so the operator's later variables that refer to it (e.g.
 *   FLUSSONIC_CONFIG_EXTERNAL to STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH) see the user's value;
 * - a name repeated in spec.env keeps only its last definition, where that one stands (as in
 *   a Pod, where the later definition wins);
 * - every name appears once, so server-side apply (which keys env by name) accepts it.
 * FLUSSONIC_EDIT_AUTH is the exception (IRREPLACEABLE_ENV): refused at apply.
 */
export function mergeUserEnv(operator: V1EnvVar[], user: readonly V1EnvVar[]): V1EnvVar[] {
  const lastByName = new Map<string, V1EnvVar>();
  for (const entry of user) lastByName.set(entry.name, entry);
  const operatorNames = new Set(operator.map((entry) => entry.name));
  const merged = operator.map((entry) => lastByName.get(entry.name) ?? entry);
  for (const entry of user) {
    if (!operatorNames.has(entry.name) && lastByName.get(entry.name) === entry) merged.push(entry);
  }
  return merged;
}

/**
 * Puts `userinfo` into a URL's authority: `http://host/p` -> `http://<userinfo>@host/p`,
 * replacing any userinfo already there. A value without `scheme://` gets it prefixed.
 * Done on text, not with `new URL`, so `$(...)` references survive unescaped.
 */
export function withUserinfo(url: string, userinfo: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(url);
  const [scheme, rest] = match ? [match[1] ?? '', match[2] ?? ''] : ['', url];
  return `${scheme}${userinfo}@${rest.replace(/^[^/?#@]*@/, '')}`;
}
