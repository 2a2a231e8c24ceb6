// The `<name>-headless` Service: the StatefulSet's governing Service, giving the Pod the DNS
// name used in its annotations (endpoints.ts).
import type { V1Service } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { childMetadata, childNames, selectorLabels } from './meta.ts';
import { API_PORT, PORT_NAMES, payloadPort } from './ports.ts';

/**
 * Headless (clusterIP None), selecting the StatefulSet's Pod, with the payload and API ports.
 * `publishNotReadyAddresses` so the operator can reach the API (to push config, read status)
 * while the Pod is still starting or not ready.
 */
export function buildService(streamer: Streamer): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(streamer, childNames(streamer).headlessService),
    spec: {
      clusterIP: 'None',
      selector: selectorLabels(streamer),
      publishNotReadyAddresses: true,
      ports: [
        { name: PORT_NAMES.payload, port: payloadPort(streamer.spec), targetPort: PORT_NAMES.payload, protocol: 'TCP' },
        { name: PORT_NAMES.api, port: API_PORT, targetPort: PORT_NAMES.api, protocol: 'TCP' },
      ],
    },
  };
}
