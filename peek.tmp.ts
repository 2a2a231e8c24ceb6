import { useCluster } from './test/cluster/shared.ts';
import { quickstartManifest } from './test/fixtures/streamers.ts';
const c = await useCluster();
const ns = await c.createNamespace('peek');
await new Promise((r) => setTimeout(r, 3000));
for (const spec of [{ ...quickstartManifest.spec, version: 'latest' }, { ...quickstartManifest.spec, hostPort: 0, logLevel: 'x' }]) {
  const r = await c.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ ...quickstartManifest, spec }) });
  console.log(r.code, r.stderr, r.stdout);
}
const r = await c.kubectl(['explain', 'streamer.spec.logLevel']); console.log(r.stdout);
