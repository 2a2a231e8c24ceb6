// In-cluster URLs of a streamer's Pod, through the headless Service's per-Pod DNS record.
import type { Streamer } from '../schema/streamer.ts';
import { childNames } from './meta.ts';
import { API_PORT } from './ports.ts';

/** Base path of the media server API (v3). */
export const API_BASE_PATH = '/streamer/api/v3';

/** `<name>-streamer-0.<name>-headless.<namespace>.svc.cluster.local` */
export function podDnsName(streamer: Streamer): string {
  const names = childNames(streamer);
  return `${names.pod}.${names.headlessService}.${streamer.metadata.namespace}.svc.cluster.local`;
}

/**
 * The API URL in the spec's format:
 * `http://<name>-streamer-0.<name>-headless.<namespace>.svc.cluster.local:81/streamer/api/v3`.
 * It resolves once the Pod exists (the headless Service publishes not-ready addresses).
 */
export function apiEndpoint(streamer: Streamer): string {
  return `http://${podDnsName(streamer)}:${API_PORT}${API_BASE_PATH}`;
}
