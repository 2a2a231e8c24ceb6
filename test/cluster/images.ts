// Stands in for the container images (and the registry they would come from): which local
// program runs a Pod's image. The table knows images, not Knative or our functions' logic:
//   ko://knative.dev/eventing/cmd/<path>   → the Knative command built by build-knative.sh
//   registry.k8s.io/coredns/coredns:*      → the CoreDNS built by build-knative.sh
//   <any registry>/streamer-operator[:tag] → this repository's production bundle (dist/),
//                                            served by functions-framework as the image runs it
//   flussonic/flussonic:*                  → the media-server test double (test/media-double/serve.ts;
//                                            with sharedMedia one process for every such Pod,
//                                            test/media-double/serve-many.ts)
//   streamer-operator-test/delivery-proxy  → the tests' delivery recorder (test/delivery-proxy/serve.ts)
// Any other image leaves its Pod an inert kwok Pod.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageTable } from './kubelet.ts';

export const DELIVERY_PROXY_IMAGE = 'streamer-operator-test/delivery-proxy';
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.15.0';

/**
 * `mediaStateDir`: where the media doubles write their state and read their fault modes (see
 * test/media-double/pod-double.ts). `sharedMedia`: one media-double process serves every
 * streamer Pod (kubelet.ts Program.shared), for runs of hundreds of Pods.
 */
export function imageTable({ knativeBinDir, repoRoot, mediaStateDir, sharedMedia = false }: { knativeBinDir: string; repoRoot: string; mediaStateDir?: string; sharedMedia?: boolean }): ImageTable {
  const functionsFramework = join(repoRoot, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
  return (image): ReturnType<ImageTable> => {
    const ko = /^ko:\/\/knative\.dev\/eventing\/cmd\/(.+)$/.exec(image);
    if (ko) {
      const binary = join(knativeBinDir, (ko[1] ?? '').replace(/\//g, '_'));
      return existsSync(binary) ? { command: binary } : undefined;
    }
    if (image === COREDNS_IMAGE) return { command: join(knativeBinDir, 'coredns') };
    const repository = image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
    if (repository === 'streamer-operator' || repository.endsWith('/streamer-operator')) {
      // The image's entry point: functions-framework in the package root, main = dist/index.js.
      return { command: process.execPath, args: [functionsFramework], cwd: repoRoot, env: { NODE_ENV: 'production' } };
    }
    if (repository === 'flussonic/flussonic' || repository.endsWith('/flussonic/flussonic')) {
      const program = sharedMedia ? 'serve-many.ts' : 'serve.ts';
      return { command: process.execPath, args: [join(repoRoot, 'test', 'media-double', program)], cwd: repoRoot, ...(mediaStateDir ? { env: { MEDIA_DOUBLE_STATE_DIR: mediaStateDir } } : {}), ...(sharedMedia ? { shared: true } : {}) };
    }
    if (repository === DELIVERY_PROXY_IMAGE) {
      return { command: process.execPath, args: [join(repoRoot, 'test', 'delivery-proxy', 'serve.ts')], cwd: repoRoot };
    }
    return undefined;
  };
}
