// The image's tree and command, outside a container: package.json and package-lock.json with
// `npm ci --omit=dev`, the production bundle, the compile cache filled as the Containerfile
// fills it, then the Containerfile's CMD with its ENV, serving a real CloudEvent (a Streamer's
// resource.update) against the real control plane. The only addition is a preload that binds
// the server to loopback (loopback-only.mjs): this host's rule, not the image's.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { parse } from 'yaml';
import { buildBundles } from '../../scripts/build.ts';
import { repoRoot } from '../cluster/index.ts';
import { freePort } from '../cluster/ports.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { apiServerEvent } from '../e2e/sandbox.ts';

const run = promisify(execFile);
const cluster = await useCluster();
const tree = await mkdtemp(join(tmpdir(), 'production-tree-'));
process.once('beforeExit', () => void rm(tree, { recursive: true, force: true }));

/** The Containerfile's final stage: its ENV (continuation lines joined) and its CMD. */
async function containerfile(): Promise<{ env: Record<string, string>; cmd: string[]; warm: string }> {
  const text = (await readFile(join(repoRoot, 'Containerfile'), 'utf8')).replace(/\\\n\s*/g, ' ');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of final.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, name, value] of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[name!] = value!;
  }
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]!) as string[];
  const warm = /^RUN (NODE_COMPILE_CACHE=.*)$/m.exec(text)![1]!;
  return { env, cmd, warm };
}

const production = suite('the production tree');

production('npm ci --omit=dev, the bundle and the compile cache, as the Containerfile builds them', async () => {
  for (const file of ['package.json', 'package-lock.json']) await copyFile(join(repoRoot, file), join(tree, file));
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: tree, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  const installed = await readdir(join(tree, 'node_modules'));
  for (const devOnly of ['esbuild', 'typescript', 'uvu', 'yaml', 'node']) assert.not.ok(installed.includes(devOnly), `${devOnly} is a dev dependency`);
  await buildBundles({ outdir: join(tree, 'dist') });
  await mkdir(join(tree, 'scripts'));
  await copyFile(join(repoRoot, 'scripts', 'compile-cache.mjs'), join(tree, 'scripts', 'compile-cache.mjs'));
  const { warm } = await containerfile();
  // `NODE_COMPILE_CACHE=/app/.compile-cache FUNCTION_TARGET=… node --lite-mode scripts/compile-cache.mjs`
  const words = warm.split(/\s+/);
  const assignments = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split('=') as [string, string]));
  const [node, ...args] = words.filter((w) => !/^[A-Z_]+=/.test(w));
  assert.is(node, 'node');
  await run(process.execPath, args, { cwd: tree, env: { ...process.env, ...assignments, NODE_COMPILE_CACHE: assignments.NODE_COMPILE_CACHE!.replace(/^\/app/, tree) } });
  assert.ok((await readdir(join(tree, '.compile-cache'), { recursive: true })).length > 0, 'the compile cache has entries');
});

production('func.yaml\'s buildpack entrypoint is the same command', async () => {
  const { cmd, env } = await containerfile();
  const funcYaml = parse(await readFile(join(repoRoot, 'func.yaml'), 'utf8')) as { build: { buildEnvs: { name: string; value: string }[] } };
  const buildEnv = (name: string) => funcYaml.build.buildEnvs.find((e) => e.name === name)?.value;
  assert.equal(buildEnv('GOOGLE_ENTRYPOINT')?.split(' '), cmd);
  assert.is(buildEnv('GOOGLE_FUNCTION_TARGET'), env.FUNCTION_TARGET);
});

production('the image\'s command serves a Streamer event: 204, and the children exist', async () => {
  const { env, cmd } = await containerfile();
  assert.equal(cmd.slice(0, 3), ['node', '--lite-mode', 'node_modules/@google-cloud/functions-framework/build/src/main.js']);
  const namespace = await cluster.createNamespace('production-tree');
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', namespace, '--from-literal=license_key=test']);
  const streamer = JSON.parse(await cluster.kubectl.ok(['create', '-n', namespace, '-o', 'json', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', metadata: { name: 'cam' }, spec: { version: 'v26.01-5', nodeName: 'stream-node', licenseKey: { secretKeyRef: { name: 'flussonic-license', key: 'license_key' } } } }),
  })) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string } };
  const port = await freePort();
  const child = spawn(process.execPath, cmd.slice(1), {
    cwd: tree,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      ...env,
      NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE!.replace(/^\/app/, tree),
      PORT: String(port),
      KUBECONFIG: cluster.kubeconfig,
      NODE_OPTIONS: `--import=${join(repoRoot, 'test', 'runtime', 'loopback-only.mjs')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the function answering its readiness probe', async () => {
      const response = await request(`${base}/health/readiness`);
      await response.body.text();
      return response.statusCode === 200 ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    const event = apiServerEvent('dev.knative.apiserver.resource.update', streamer, streamer);
    const response = await request(`${base}/reconcile-children`, { method: 'POST', headers: event.headers, body: event.body });
    await response.body.text();
    assert.is(response.statusCode, 204, output);
    const set = await cluster.kubectl(['get', 'statefulset', 'cam-streamer', '-n', namespace]);
    assert.is(set.code, 0, set.stderr);
    assert.match(output, /"outcome":"done"/, 'one JSON log line for the event');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});

production.run();
