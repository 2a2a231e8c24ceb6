// The media server's two HTTP listeners inside the container. The base config
// (media-server-config.ts) opens them; the StatefulSet, Service and probes refer to them.
import type { StreamerSpec } from '../schema/streamer.ts';

/** API and admin UI listener (`http 81;`). Never changes; `adminHostPort` only maps it. */
export const API_PORT = 81;
/** Payload listener (`http 80 { api false; }`) when `hostPort` is unset. */
export const DEFAULT_PAYLOAD_PORT = 80;

export const PORT_NAMES = { payload: 'payload', api: 'api' } as const;

/**
 * The container's payload port. The spec: "If you change this value [hostPort], the container
 * port will also change to the same value", so host and container ports are equal.
 */
export function payloadPort(spec: StreamerSpec): number {
  return spec.hostPort ?? DEFAULT_PAYLOAD_PORT;
}
