// The media server's edit_auth credentials and the Authorization header built from them.
import { EditAuthFormatError } from './errors.ts';

/** edit_auth as a pair. The Secret/env form is `login:password` (flussonic-api.md §4). */
export type EditAuth = { login: string; password: string };

/**
 * Splits `login:password` at the first colon (the password may contain colons).
 * @throws EditAuthFormatError when there is no colon or either part is empty; the value is not echoed.
 */
export function parseEditAuth(text: string): EditAuth {
  const colon = text.indexOf(':');
  const login = colon > 0 ? text.slice(0, colon) : '';
  const password = colon > 0 ? text.slice(colon + 1) : '';
  if (login === '' || password === '') throw new EditAuthFormatError();
  return { login, password };
}

/** Accepts either form of the credentials; validates the pair the same way as the string. */
export function toEditAuth(auth: EditAuth | string): EditAuth {
  if (typeof auth === 'string') return parseEditAuth(auth);
  if (auth.login === '' || auth.login.includes(':') || auth.password === '') throw new EditAuthFormatError();
  return { login: auth.login, password: auth.password };
}

/**
 * `Basic base64(login:password)`. The server also takes the same token as `Bearer`
 * (flussonic-api.md §2.1); Basic is the scheme both the spec and the docs name first.
 */
export function basicAuthorization(auth: EditAuth): string {
  return `Basic ${Buffer.from(`${auth.login}:${auth.password}`, 'utf8').toString('base64')}`;
}
