// configExternalAuth as URL userinfo. FLUSSONIC_CONFIG_EXTERNAL is configExternalUrl with the
// auth value as its userinfo (`http://<auth>@host/...`), and an auth value may hold characters
// with a meaning in a URL (`@ : / # ? %`): `p@ss` would end the userinfo early. Kubernetes'
// $(VAR) expansion does no escaping, so the operator escapes: it reads the value the
// configExternalAuth secretKeyRef/configMapKeyRef points at, and keeps the escaped form in the
// `<name>-license-storage` Secret under CONFIG_EXTERNAL_AUTH_KEY, which the container's env
// references. The value never enters the Pod spec, a ConfigMap, a log or the status.
// fieldRef/resourceFieldRef/fileKeyRef sources are not resolvable by the operator; they are
// referenced as given (node and Pod names carry no URL syntax).
import type { EnvVarSource } from '../schema/env-var.ts';
import type { Streamer } from '../schema/streamer.ts';

/** The key of `<name>-license-storage` holding the escaped userinfo. */
export const CONFIG_EXTERNAL_AUTH_KEY = 'config_external_auth';

/** The source the operator escapes, or undefined when configExternalAuth is used as given. */
export function escapedAuthSource(streamer: Streamer): { kind: 'Secret' | 'ConfigMap'; name: string; key: string; optional: boolean } | undefined {
  const { configExternalUrl, configExternalAuth } = streamer.spec;
  if (!configExternalUrl || !configExternalAuth) return undefined;
  const ref: EnvVarSource['secretKeyRef'] = configExternalAuth.secretKeyRef ?? configExternalAuth.configMapKeyRef;
  if (!ref) return undefined;
  return { kind: configExternalAuth.secretKeyRef ? 'Secret' : 'ConfigMap', name: ref.name, key: ref.key, optional: ref.optional ?? false };
}

/** Characters RFC 3986 allows as they are in a userinfo part (the unreserved and sub-delims). */
const SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=]/;

/**
 * `login:password` (or a bare key) as URL userinfo: everything outside RFC 3986's userinfo
 * characters is percent-encoded as UTF-8, in the login and in the password; the first `:` stays
 * the separator and later ones are encoded. An existing valid escape (`%40`) is kept, so a value
 * that was already encoded by hand reaches the server unchanged.
 */
export function escapeUserinfo(raw: string): string {
  const colon = raw.indexOf(':');
  if (colon < 0) return escapePart(raw);
  return `${escapePart(raw.slice(0, colon))}:${escapePart(raw.slice(colon + 1))}`;
}

function escapePart(part: string): string {
  let out = '';
  for (let i = 0; i < part.length; i++) {
    const char = part[i] as string;
    if (char === '%' && /^[0-9A-Fa-f]{2}$/.test(part.slice(i + 1, i + 3))) out += char;
    else if (SAFE.test(char)) out += char;
    else {
      const code = part.codePointAt(i) ?? 0;
      const whole = String.fromCodePoint(code);
      out += Array.from(Buffer.from(whole, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      i += whole.length - 1;
    }
  }
  return out;
}
