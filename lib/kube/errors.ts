/**
 * A Kubernetes API request failed with an HTTP status. `reason` is the
 * metav1.Status reason (NotFound, Conflict, AlreadyExists, Invalid, ...) and
 * `message` the API server's own words, so callers and users see why.
 */
export class KubeApiError extends Error {
  override name = 'KubeApiError' as const;
  readonly code = 'KUBE_API_ERROR' as const;
  readonly statusCode: number;
  readonly reason: string;
  /** The API server's own message (metav1.Status message), without method and path: safe to show users. */
  readonly serverMessage: string;
  constructor(options: { method: string; path: string; statusCode: number; reason: string; message: string }) {
    super(`${options.method} ${options.path} answered ${options.statusCode} ${options.reason}: ${options.message}`);
    this.statusCode = options.statusCode;
    this.reason = options.reason;
    this.serverMessage = options.message;
  }
}

/** The API server could not be reached (connection refused, reset, timeout). */
export class KubeNetworkError extends Error {
  override name = 'KubeNetworkError' as const;
  readonly code = 'KUBE_NETWORK_ERROR' as const;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * Credentials for the API server could not be obtained: an exec plugin failed or printed
 * no ExecCredential, a token or certificate file is unreadable, an OIDC refresh failed.
 * Transient (a plugin may reach its cloud on the next try; a rotated file may reappear).
 */
export class KubeCredentialError extends Error {
  override name = 'KubeCredentialError' as const;
  readonly code = 'KUBE_CREDENTIAL_ERROR' as const;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

export const isNotFound = (error: unknown) => error instanceof KubeApiError && error.statusCode === 404;
export const isConflict = (error: unknown) => error instanceof KubeApiError && error.statusCode === 409;
