// Client-side protection of the API server, per replica: a token bucket (QPS and burst, like
// client-go's rest.Config QPS/Burst) and a cap on requests in flight. It wraps a KubeTransport's
// dispatcher (an undici interceptor), so every request of every KubeClient on that transport
// waits its turn, and the client code is unchanged. A replica then costs the API server at most
// `qps` requests a second on average, `burst` at once after a quiet spell, and never more than
// `maxInFlight` open requests, whatever arrives (a resync, a burst of events, Broker retries).
// Retrying a 429 with its Retry-After is the client's business (lib/kube/client.ts); this only
// keeps replicas from causing it.
import type { Dispatcher } from 'undici';
import type { KubeTransport } from './client.ts';

export type RateLimits = {
  /** Requests a second on average; 0 or less: no rate limit (only the in-flight cap). */
  qps: number;
  /** Requests allowed at once after a quiet spell (bucket size); at least 1. */
  burst: number;
  /** Requests open at once; at least 1. */
  maxInFlight: number;
};

/** Defaults: a replica is one of at most three (knative/service.yaml max-scale). */
export const DEFAULT_RATE_LIMITS: RateLimits = { qps: 50, burst: 100, maxInFlight: 16 };

export type RateLimiter = {
  /** Resolves when the caller may send one request; call `release` when its response is over. */
  acquire(): Promise<void>;
  release(): void;
  stats(): { inFlight: number; waiting: number; maxInFlightSeen: number };
};

/** A FIFO token bucket with an in-flight cap. */
export function createRateLimiter(
  { qps, burst, maxInFlight }: RateLimits,
  { now = () => performance.now() }: { now?: () => number } = {},
): RateLimiter {
  if (!(burst >= 1) || !(maxInFlight >= 1)) throw new RangeError(`burst and maxInFlight must be >= 1, got ${burst} and ${maxInFlight}`);
  let tokens = burst;
  let last = now();
  let inFlight = 0;
  let maxInFlightSeen = 0;
  let timer: NodeJS.Timeout | undefined;
  const waiting: (() => void)[] = [];

  const pump = () => {
    if (qps > 0) {
      const at = now();
      tokens = Math.min(burst, tokens + ((at - last) * qps) / 1000);
      last = at;
    }
    while (waiting.length > 0 && inFlight < maxInFlight && (qps <= 0 || tokens >= 1)) {
      if (qps > 0) tokens -= 1;
      inFlight++;
      maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
      (waiting.shift() as () => void)();
    }
    // Out of tokens with room in flight: wake up when the next token is due.
    if (waiting.length > 0 && inFlight < maxInFlight && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, Math.max(1, Math.ceil(((1 - tokens) * 1000) / qps)));
    }
  };

  return {
    acquire: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        pump();
      }),
    release() {
      inFlight--;
      pump();
    },
    stats: () => ({ inFlight, waiting: waiting.length, maxInFlightSeen }),
  };
}

/** An undici interceptor that sends each request only when `limiter` allows, and frees its slot when the response ends or fails. */
export function rateLimitInterceptor(limiter: RateLimiter): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => {
    void limiter.acquire().then(() => {
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          limiter.release();
        }
      };
      const ends = new Set<PropertyKey>(['onResponseEnd', 'onResponseError']);
      const wrapped = new Proxy(handler, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (ends.has(property)) release();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      try {
        dispatch(options, wrapped);
      } catch (error) {
        // Delivered as the request's failure, like any error undici reports.
        release();
        handler.onResponseError?.(undefined as never, error as Error);
      }
    });
    return true;
  };
}

/** `transport` with its dispatcher behind a limiter (one per process: share the result). */
export function limitTransport(transport: KubeTransport, limits: RateLimits = DEFAULT_RATE_LIMITS): KubeTransport & { limiter: RateLimiter } {
  const limiter = createRateLimiter(limits);
  return { ...transport, dispatcher: transport.dispatcher.compose(rateLimitInterceptor(limiter)), limiter };
}

/** KUBE_QPS, KUBE_BURST, KUBE_MAX_IN_FLIGHT from the environment, with the defaults above. */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(value) ? value : fallback;
  };
  return {
    qps: number('KUBE_QPS', DEFAULT_RATE_LIMITS.qps),
    burst: Math.max(1, number('KUBE_BURST', DEFAULT_RATE_LIMITS.burst)),
    maxInFlight: Math.max(1, Math.floor(number('KUBE_MAX_IN_FLIGHT', DEFAULT_RATE_LIMITS.maxInFlight))),
  };
}
