// `npm run build`: the production bundles in dist/ (what the image runs), one per
// functions-framework target, minified, with source maps. functions-framework stays
// external (its CLI loads the bundle).
//
// @kubernetes/client-node: the operator uses only its KubeConfig (lib/kube/config.ts
// imports `dist/config.js`). That module imports the generated API client
// (`./gen/index.js`, ~370 kB of the bundle) for one method, `makeApiClient`, which
// the operator never calls; the bundle gets a two-line stand-in for it that throws if
// it ever is called. BENCHMARKS.md has what this saves at cold start.
import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const withoutGeneratedApiClient: Plugin = {
  name: 'client-node-without-generated-api',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      args.importer.replaceAll('\\', '/').endsWith('@kubernetes/client-node/dist/config.js')
        ? { path: 'client-node-gen', namespace: 'stand-in' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({
      contents: [
        "const absent = () => { throw new Error('@kubernetes/client-node makeApiClient is not in this bundle (scripts/build.ts)'); };",
        'export const createConfiguration = absent;',
        'export class ServerConfiguration { constructor() { absent(); } }',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/** Builds the bundles into `outdir` (relative to the repository); `fullClientNode` keeps the generated client (for the benchmark's comparison). */
export async function buildBundles({ outdir = 'dist', fullClientNode = false }: { outdir?: string; fullClientNode?: boolean } = {}): Promise<void> {
  await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'functions/index.ts',
    'reconcile-children': 'functions/reconcile-children/index.ts',
    'push-config': 'functions/push-config/index.ts',
    'probe-status': 'functions/probe-status/index.ts',
  },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  minify: true,
  keepNames: true,
  external: ['@google-cloud/functions-framework'],
  // Bundled CommonJS dependencies call require(); an ESM bundle has none of its own.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  plugins: fullClientNode ? [] : [withoutGeneratedApiClient],
  logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBundles();
