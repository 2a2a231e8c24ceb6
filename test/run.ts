// The test command (`npm test`). Runs every `test/**/*.test.ts` file in its
// own Node process (uvu suites run on import), sharing one real control plane
// started here when any file needs it, and ends with `N passed, N failed`.
//
// Two lanes run side by side, each one file at a time: the files on the shared loopback control
// plane, and the files that start their own sealed cluster (real Knative), so at most one sealed
// cluster runs at a time. The sealed ones never touch the shared cluster, so cleanBetweenFiles
// cannot reach them; the two lanes at once keep the whole run well inside CI's limit (one lane
// after the other took 83 min). Files on both (npm start's) run alone after them. A file's
// output is printed whole when it ends. TEST_LANES=1 runs everything in one lane.
//
// Usage: node test/run.ts [filter...]   (filters match file paths)
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { startSharedCluster } from './cluster/shared.ts';
import { buildBundles } from '../scripts/build.ts';
import { enterRootlessIfNeeded } from './cluster/rootless.ts';

const root = new URL('..', import.meta.url).pathname;

async function findTests(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await findTests(path)));
    else if (entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files.sort();
}

type Outcome = { file: string; passed: number; failed: number; seconds: number };

/** Runs one test file; counts uvu's totals, or one failure if it never printed them. */
function runFile(file: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let all = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      all += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      all += chunk.toString();
    });
    child.on('close', (code) => {
      process.stdout.write(`\n== ${relative(root, file)}\n${all}`);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const seconds = (Date.now() - started) / 1000;
      const rel = relative(root, file);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        resolve({ file: rel, passed: 0, failed: 1, seconds });
      } else {
        // A file whose suites passed but whose process failed still counts as a failure.
        const failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
        resolve({ file: rel, passed, failed, seconds });
      }
    });
  });
}

const filters = process.argv.slice(2);
const files = (await findTests(join(root, 'test'))).filter(
  (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
);

/** Whether a file starts a sealed cluster of its own, uses the shared one, or both (npm start's). */
async function clustersOf(file: string): Promise<'sealed' | 'shared' | 'both'> {
  const source = await readFile(file, 'utf8');
  // rootless.test.ts runs pod-network.test.ts (a sealed cluster) in a child without privileges.
  const sealed = /useRealSandbox\(|network: 'sealed'|npmStart\(|withoutCapabilities\(/.test(source);
  const shared = /useCluster\(/.test(source);
  return sealed && shared ? 'both' : sealed ? 'sealed' : 'shared';
}

const oneLane = process.env.TEST_LANES === '1';
const lanes = { sealed: [] as string[], shared: [] as string[], both: [] as string[] };
let anySealed = false;
for (const file of files) {
  const kind = await clustersOf(file);
  anySealed ||= kind !== 'shared';
  lanes[oneLane ? 'shared' : kind].push(file);
}

// Without root, the whole run moves into a rootless user namespace when a sealed file is in it
// (rootless.ts); the files it starts inherit it.
if (anySealed) await enterRootlessIfNeeded();

// The real-Knative files run dist/ as the image does; a bundle left from older sources would be
// tested instead of this tree (about 2 s).
await buildBundles();

const cluster = await startSharedCluster();
const outcomes: Outcome[] = [];
const lane = async (list: string[], env: NodeJS.ProcessEnv, afterEach: () => Promise<void>) => {
  for (const file of list) {
    outcomes.push(await runFile(file, env));
    await afterEach();
  }
};
try {
  await Promise.all([lane(lanes.shared, { ...process.env, ...cluster.env }, cluster.cleanBetweenFiles), lane(lanes.sealed, process.env, async () => {})]);
  // Alone at the end: a file on both would meet the other lanes' cleanups and cluster starts.
  await lane(lanes.both, { ...process.env, ...cluster.env }, cluster.cleanBetweenFiles);
} finally {
  await cluster.stop();
}
outcomes.sort((a, b) => a.file.localeCompare(b.file));

const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
console.log('\nper file:');
for (const o of outcomes) console.log(`  ${o.failed ? 'FAIL' : 'ok  '} ${o.file} ${o.passed}/${o.passed + o.failed} ${o.seconds.toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
