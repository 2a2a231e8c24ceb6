// Fills Node's compile cache at image build time, so a Pod scaled up from zero starts with
// the bundle and functions-framework already compiled (BENCHMARKS.md, cold start). Run it in
// the production tree with the node binary and the V8 flags of the start command (V8 rejects
// code cached by another version or under other flags):
//
//   NODE_COMPILE_CACHE=/app/.compile-cache node --lite-mode scripts/compile-cache.mjs
//
// It loads what functions-framework's main.js loads (its modules and, through its loader,
// dist/index.js with the target registered) without listening, then writes the cache.
// Plain JavaScript: the production tree has no TypeScript tooling.
import { createRequire, flushCompileCache, getCompileCacheDir } from 'node:module';
import { join } from 'node:path';

const require = createRequire(`${process.cwd()}/`);
if (!getCompileCacheDir()) throw new Error('NODE_COMPILE_CACHE is not set (or its folder cannot be used): nothing to fill');
// By file: the package's exports map offers only its entry points, main.js is run by path too.
const framework = join(process.cwd(), 'node_modules/@google-cloud/functions-framework/build/src');
for (const module of ['options', 'invoker', 'server', 'logger']) require(`${framework}/${module}.js`);
const { getUserFunction } = require(`${framework}/loader.js`);
const target = process.env.FUNCTION_TARGET ?? 'streamer-operator';
const loaded = await getUserFunction(process.cwd(), target, process.env.FUNCTION_SIGNATURE_TYPE ?? 'http');
if (!loaded) throw new Error(`functions-framework could not load target ${target} from ${process.cwd()}`);
flushCompileCache();
process.stdout.write(`compile cache written to ${getCompileCacheDir()}\n`);
