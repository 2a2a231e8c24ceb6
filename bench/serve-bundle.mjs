// Serves a built bundle with functions-framework's own server on loopback, as
// scripts/serve-function.ts serves the sources (the framework's CLI listens on
// every interface). Plain JavaScript on purpose: a .ts entry would make Node
// load its type stripper, which is part of what the benchmark compares.
//
//   node bench/serve-bundle.mjs <bundle> <target> <port>
// e.g. node bench/serve-bundle.mjs dist/index.js streamer-operator 8080
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';

const [bundle = 'dist/index.js', target = 'streamer-operator', port = '8080'] = process.argv.slice(2);
await import(pathToFileURL(resolve(bundle)).href);
const server = getTestServer(target);
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ function: target, outcome: 'listening', url: `http://127.0.0.1:${port}/` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
