// The test command (`npm test`). Runs every `test/**/*.test.ts` file in its
// own Node process (uvu suites run on import), sharing one real control plane
// started here when any file needs it, and ends with `N passed, N failed`.
//
// Usage: node test/run.ts [filter...]   (filters match file paths)
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { startSharedCluster } from './cluster/shared.ts';
import { buildBundles } from '../scripts/build.ts';

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
    const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('close', (code) => {
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

// The real-Knative files run dist/ as the image does; a bundle left from older sources would be
// tested instead of this tree (about 2 s).
await buildBundles();
const cluster = await startSharedCluster();
const outcomes: Outcome[] = [];
try {
  for (const file of files) {
    outcomes.push(await runFile(file, { ...process.env, ...cluster.env }));
    await cluster.cleanBetweenFiles();
  }
} finally {
  await cluster.stop();
}

const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
console.log('\nper file:');
for (const o of outcomes) console.log(`  ${o.failed ? 'FAIL' : 'ok  '} ${o.file} ${o.passed}/${o.passed + o.failed} ${o.seconds.toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
