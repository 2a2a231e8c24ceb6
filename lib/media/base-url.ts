// Where the operator reaches one Streamer's media server: the Pod's own IP and API port.
import { isIPv6 } from 'node:net';

/**
 * `http://<podIP>:<port>`, with an IPv6 address in brackets. Pod IPs are used instead of
 * cluster DNS names so the operator works without cluster DNS (and against kwok pods whose
 * IPs are loopback addresses in tests).
 * @throws RangeError when `port` is not an integer in 1..65535 or `podIP` is empty.
 */
export function mediaBaseUrl({ podIP, port }: { podIP: string; port: number }): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`API port must be an integer in 1..65535, got ${port}`);
  const ip = podIP.trim();
  if (ip === '') throw new RangeError('pod IP is empty');
  const host = isIPv6(ip) ? `[${ip}]` : ip;
  return `http://${host}:${port}`;
}
