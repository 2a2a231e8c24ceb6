// How the double checks credentials (flussonic-api.md §2): `Authorization: Basic <token>` or
// `Bearer <token>`, the token being base64(`login:password`) of edit_auth. Anything else —
// no header, another scheme, a wrong token — is refused with 403 {"error":"authorization_failed"},
// as the real request handler does (it never answers 401).

export const AuthScheme = ['basic', 'bearer', 'other', 'none'] as const;
export type AuthScheme = (typeof AuthScheme)[number];

export type AuthCheck = { scheme: AuthScheme; authorized: boolean };

/** Checks an Authorization header against `editAuth` (`login:password`). */
export function checkAuthorization(header: string | undefined, editAuth: string): AuthCheck {
  if (header === undefined || header.trim() === '') return { scheme: 'none', authorized: false };
  const match = /^(\S+)\s+(\S+)$/.exec(header.trim());
  const scheme = match?.[1]?.toLowerCase();
  if (match === null || (scheme !== 'basic' && scheme !== 'bearer')) return { scheme: 'other', authorized: false };
  const decoded = Buffer.from(match[2] ?? '', 'base64').toString('utf8');
  return { scheme, authorized: decoded === editAuth };
}
