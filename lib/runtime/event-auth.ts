// Who may deliver an event: Knative's OIDC sender identity (the `authentication-oidc` feature of
// config-features). With the feature on, the Broker's filter sends each Trigger delivery with
// `Authorization: Bearer <JWT>`, a token of the Trigger's own OIDC ServiceAccount
// (`<trigger>-oidc-eventing.knative.dev-trigger`) issued by the cluster for the subscriber's
// audience (the Trigger's subscriber.audience here: Knative Serving publishes none for a Knative
// Service). This module checks such a token in three steps, cheapest first:
//   1. its `iss` claim is the cluster's service-account issuer (read from the token without
//      trusting it: a mismatch is refused with no request at all);
//   2. a TokenReview through the API server, with our audience: signature, expiry, audience and
//      that the ServiceAccount still exists are the API server's to judge;
//   3. the authenticated user is one of the subjects the functions' EventPolicy admits (its
//      status.from, resolved by Knative from the Trigger refs in spec.from).
// Results are cached by token hash (bounded in entries, and in time by the token's own expiry),
// so a replica costs one TokenReview per token, not per event: the filter reuses a token until
// shortly before it expires.
import { createHash } from 'node:crypto';
import { send, type KubeTransport } from '../kube/client.ts';

const TIMEOUT_MS = 10_000;

/** Why a request is refused, as a stable code plus a sentence for the log and the 401 body. */
export type EventAuthCode = 'NoToken' | 'MalformedToken' | 'WrongIssuer' | 'NotAuthenticated' | 'SubjectNotAllowed' | 'ReviewFailed';

export class EventAuthError extends Error {
  readonly code: EventAuthCode;
  constructor(code: EventAuthCode, message: string) {
    super(message);
    this.name = 'EventAuthError';
    this.code = code;
  }
}

/** An accepted sender. */
export type EventSender = { subject: string };

export type VerifierOptions = {
  transport: () => Promise<KubeTransport>;
  /** The audience the Triggers request tokens for (their subscriber.audience). */
  audience: string;
  /** The cluster's service-account issuer (kube-apiserver --service-account-issuer); see discoverIssuer. */
  issuer: () => Promise<string>;
  /**
   * The subjects allowed to deliver (e.g. the EventPolicy's status.from), asked after a
   * TokenReview succeeded; `fresh` asks for a list newer than any cached one (a subject missing
   * from a cached list may have been admitted since).
   */
  allowedSubjects: (fresh?: boolean) => Promise<ReadonlySet<string>>;
  /** Most tokens remembered (accepted and refused together); the oldest are forgotten first. */
  maxEntries?: number;
  /** Longest a result is trusted, whatever the token's expiry. */
  maxAgeMs?: number;
  now?: () => number;
};

type Cached = { until: number; result: EventSender | EventAuthError };

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** The JWT's claims, decoded but not verified (the TokenReview verifies). */
function claimsOf(token: string): { iss?: unknown; exp?: unknown } {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as unknown;
    if (claims && typeof claims === 'object') return claims as { iss?: unknown; exp?: unknown };
  } catch {
    // fall through
  }
  throw new EventAuthError('MalformedToken', 'the bearer token is not a JWT');
}

export type EventVerifier = {
  /** The sender of a request with this Authorization header, or an EventAuthError. */
  verify(authorization: string | undefined): Promise<EventSender>;
  /** TokenReviews sent so far (for tests and the log). */
  readonly reviews: number;
};

export function createEventVerifier(options: VerifierOptions): EventVerifier {
  const { transport, audience, issuer, allowedSubjects, maxEntries = 1_000, maxAgeMs = 5 * 60_000, now = Date.now } = options;
  const cache = new Map<string, Cached>();
  let reviews = 0;

  const remember = (key: string, result: EventSender | EventAuthError, expSeconds: number | undefined, ttlMs: number) => {
    const until = Math.min(now() + ttlMs, expSeconds ? expSeconds * 1000 : Infinity);
    cache.delete(key);
    cache.set(key, { until, result });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  async function review(token: string): Promise<string> {
    reviews++;
    const response = await send(await transport(), {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { type: 'application/json', data: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } }) },
    }, TIMEOUT_MS);
    if (response.statusCode !== 201 && response.statusCode !== 200) {
      throw new EventAuthError('ReviewFailed', `TokenReview answered ${response.statusCode}`);
    }
    const status = (JSON.parse(response.text) as { status?: { authenticated?: boolean; error?: string; user?: { username?: string }; audiences?: string[] } }).status;
    if (!status?.authenticated || !status.user?.username) {
      throw new EventAuthError('NotAuthenticated', `the API server did not authenticate the token for audience ${audience}${status?.error ? `: ${status.error}` : ''}`);
    }
    if (status.audiences && !status.audiences.includes(audience)) {
      throw new EventAuthError('NotAuthenticated', `the token is not for audience ${audience}`);
    }
    return status.user.username;
  }

  return {
    get reviews() {
      return reviews;
    },
    async verify(authorization) {
      if (!authorization) {
        throw new EventAuthError('NoToken', 'no bearer token: event delivery is authenticated (EVENT_AUTH=oidc), so Knative Eventing must run with authentication-oidc: enabled in config-features (docs/install.md, "Authenticated delivery")');
      }
      const match = BEARER.exec(authorization);
      if (!match) throw new EventAuthError('MalformedToken', 'the Authorization header is not a bearer JWT');
      const token = match[1]!;
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(key);
      if (hit && hit.until > now()) {
        if (hit.result instanceof EventAuthError) throw hit.result;
        return hit.result;
      }
      cache.delete(key);
      const claims = claimsOf(token);
      const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
      const expected = await issuer();
      if (claims.iss !== expected) {
        // Not the cluster's token: refused without asking the API server.
        const error = new EventAuthError('WrongIssuer', `the token's issuer is not ${expected}`);
        remember(key, error, exp, maxAgeMs);
        throw error;
      }
      let subject: string;
      try {
        subject = await review(token);
      } catch (error) {
        if (error instanceof EventAuthError && error.code === 'NotAuthenticated') remember(key, error, exp, maxAgeMs);
        throw error;
      }
      let allowed = await allowedSubjects();
      if (!allowed.has(subject)) allowed = await allowedSubjects(true);
      const result = allowed.has(subject)
        ? { subject }
        : new EventAuthError('SubjectNotAllowed', `${subject} is not a sender the EventPolicy admits`);
      // A refusal for the subject is remembered briefly: the policy may be resolving still.
      remember(key, result, exp, result instanceof EventAuthError ? Math.min(maxAgeMs, 10_000) : maxAgeMs);
      if (result instanceof EventAuthError) throw result;
      return result;
    },
  };
}

/**
 * The subjects an EventPolicy admits (status.from, which Knative's EventPolicy controller resolves
 * from spec.from's refs to the Triggers' OIDC ServiceAccounts), read at most every `maxAgeMs`;
 * a `fresh` request re-reads a list older than `minAgeMs` (so a newly admitted Trigger passes at
 * once, while a stream of refused subjects costs at most one read per `minAgeMs`).
 */
export function eventPolicySubjects({ transport, namespace, name, maxAgeMs = 30_000, minAgeMs = 2_000, now = Date.now }: {
  transport: () => Promise<KubeTransport>;
  namespace: string;
  name: string;
  maxAgeMs?: number;
  minAgeMs?: number;
  now?: () => number;
}): (fresh?: boolean) => Promise<ReadonlySet<string>> {
  let cached: { at: number; subjects: ReadonlySet<string> } | undefined;
  return async (fresh = false) => {
    if (cached && now() - cached.at < (fresh ? minAgeMs : maxAgeMs)) return cached.subjects;
    const response = await send(await transport(), { method: 'GET', path: `/apis/eventing.knative.dev/v1alpha1/namespaces/${namespace}/eventpolicies/${name}` }, TIMEOUT_MS);
    if (response.statusCode !== 200) throw new EventAuthError('ReviewFailed', `reading EventPolicy ${namespace}/${name} answered ${response.statusCode}`);
    const from = (JSON.parse(response.text) as { status?: { from?: string[] } }).status?.from ?? [];
    cached = { at: now(), subjects: new Set(from) };
    return cached.subjects;
  };
}

/**
 * The issuer from EVENT_ISSUER, else the API server's OIDC discovery document
 * (/.well-known/openid-configuration, readable by every ServiceAccount through the default
 * system:service-account-issuer-discovery binding), read once.
 */
export function discoverIssuer(transport: () => Promise<KubeTransport>, configured?: string): () => Promise<string> {
  let issuer: Promise<string> | undefined = configured ? Promise.resolve(configured) : undefined;
  return () => {
    issuer ??= (async () => {
      const response = await send(await transport(), { method: 'GET', path: '/.well-known/openid-configuration' }, TIMEOUT_MS);
      const found = response.statusCode === 200 ? (JSON.parse(response.text) as { issuer?: unknown }).issuer : undefined;
      if (typeof found !== 'string') throw new EventAuthError('ReviewFailed', `the API server's OIDC discovery answered ${response.statusCode}; set EVENT_ISSUER`);
      return found;
    })().catch((error: unknown) => {
      issuer = undefined; // asked again on the next request
      throw error;
    });
    return issuer;
  };
}
