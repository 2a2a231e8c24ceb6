// Cold start: a fresh Node process per run serving one function with
// functions-framework's server on loopback; one real CloudEvent is POSTed as
// soon as it listens. Measured: spawn → "listening", spawn → 204, and peak
// (VmHWM) and final (VmRSS) resident memory. Variants: the TypeScript sources
// (scripts/serve-function.ts), the esbuild bundle (dist/), the bundle with
// Node's compile cache warmed once, that plus V8's --lite-mode (no optimizing
// compilers: less memory, slower hot code; so the same process then handles
// WARM_EVENTS more events and their median is reported), and two floors
// (`node -e 0`, a bare node:http server answering 204). Runs interleave
// variants so drift in the machine's load spreads over all of them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { repoRoot } from '../test/cluster/index.ts';
import { freePort } from '../test/cluster/ports.ts';
import { renderTable } from './markdown.ts';
import { memoryOf, runToExit, startListening, stopChild } from './processes.ts';
import { mb, median, met, ms, ratio } from './stats.ts';

const VARIANTS = ['source', 'bundle', 'bundle + compile cache', 'bundle + --lite-mode', 'bundle + compile cache + --lite-mode'] as const;
const WARM_EVENTS = 20;
type Variant = (typeof VARIANTS)[number];

/** The bundle that keeps client-node's generated API client (scripts/build.ts leaves it out): what leaving it out saves. */
export const FULL_CLIENT_NODE_DIR = 'dist-full-client-node';

type ColdTarget = { target: string; bundle: string; path: string; label?: string; variants?: readonly Variant[] };
export const COLD_TARGETS: readonly ColdTarget[] = [
  { target: 'reconcile-children', bundle: 'dist/reconcile-children.js', path: '/reconcile-children' },
  { target: 'push-config', bundle: 'dist/push-config.js', path: '/push-config' },
  { target: 'probe-status', bundle: 'dist/probe-status.js', path: '/probe-status' },
  { target: 'streamer-operator', bundle: 'dist/index.js', path: '/reconcile-children' },
  {
    target: 'streamer-operator', bundle: `${FULL_CLIENT_NODE_DIR}/index.js`, path: '/reconcile-children',
    label: 'streamer-operator, with client-node\'s generated API client', variants: ['bundle', 'bundle + --lite-mode'],
  },
];
const nameOf = (target: ColdTarget) => target.label ?? target.target;

/** Modules whose import cost is profiled, each alone in a fresh process. */
const IMPORTS = ['@google-cloud/functions-framework/testing', 'express', 'undici', 'zod', 'cloudevents', 'js-yaml', '@kubernetes/client-node/dist/config.js', '@kubernetes/client-node', './dist/reconcile-children.js', './dist/index.js', `./${FULL_CLIENT_NODE_DIR}/index.js`] as const;

export const TARGETS = { startMs: 300, rssMb: 80 } as const;

type Sample = { listenMs: number; eventMs: number; hwmKb: number; rssKb: number; warmMs?: number };

export type CloudEvent = { headers: Record<string, string>; body: string };

export async function benchColdStart({
  kubeconfig,
  event,
  runs = 7,
  progress = () => undefined,
}: {
  kubeconfig: string;
  /** The event POSTed to each fresh process (an unchanged Streamer's resource.update). */
  event: CloudEvent;
  runs?: number;
  progress?: (line: string) => void;
}): Promise<{ markdown: string; verdict: string }> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'bench-compile-cache-'));
  const liteCacheDir = join(cacheDir, 'lite'); // V8 rejects code cached under other flags
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, NODE_ENV: 'production' };
    delete env.NODE_OPTIONS;
    delete env.NODE_COMPILE_CACHE;
    const argsFor = (variant: Variant, target: ColdTarget, port: number) =>
      variant === 'source'
        ? [join(repoRoot, 'scripts/serve-function.ts'), target.target, String(port)]
        : [
            // A V8 flag: NODE_OPTIONS refuses it, so it goes on the command line.
            ...(variant.includes('--lite-mode') ? ['--lite-mode'] : []),
            join(repoRoot, 'bench/serve-bundle.mjs'), join(repoRoot, target.bundle), target.target, String(port),
          ];
    const envFor = (variant: Variant): NodeJS.ProcessEnv => {
      if (variant === 'bundle + compile cache') return { ...env, NODE_COMPILE_CACHE: cacheDir };
      if (variant === 'bundle + compile cache + --lite-mode') return { ...env, NODE_COMPILE_CACHE: liteCacheDir };
      return env;
    };
    const post = async (url: string) => {
      const response = await request(url, { method: 'POST', headers: event.headers, body: event.body });
      await response.body.text();
      return response.statusCode;
    };

    const one = async (variant: Variant, target: ColdTarget): Promise<Sample> => {
      const port = await freePort();
      const started = await startListening({ args: argsFor(variant, target, port), env: envFor(variant) });
      try {
        const url = `http://127.0.0.1:${port}${target.path}`;
        const status = await post(url);
        const doneAt = performance.now();
        if (status !== 204) throw new Error(`${nameOf(target)} (${variant}) answered ${status}`);
        const memory = await memoryOf(started.child.pid!);
        const warm: number[] = [];
        for (let i = 0; i < WARM_EVENTS; i++) {
          const sent = performance.now();
          await post(url);
          warm.push(performance.now() - sent);
        }
        return { listenMs: started.listeningAt - started.spawnedAt, eventMs: doneAt - started.spawnedAt, ...memory, warmMs: median(warm) };
      } finally {
        await stopChild(started.child);
      }
    };

    // Fill the compile caches once per target (a first deploy's cold start writes them).
    for (const target of COLD_TARGETS) {
      for (const variant of target.variants ?? VARIANTS) if (variant.includes('compile cache')) await one(variant, target);
    }

    const samples = new Map<string, Sample[]>();
    const floorExit: number[] = [];
    const floorHttp: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      progress(`cold start: run ${run + 1}/${runs}`);
      floorExit.push((await runToExit({ args: ['-e', '0'], env })).ms);
      floorHttp.push(await httpFloor(env));
      for (const target of COLD_TARGETS) {
        for (const variant of target.variants ?? VARIANTS) {
          const key = `${nameOf(target)}|${variant}`;
          samples.set(key, [...(samples.get(key) ?? []), await one(variant, target)]);
        }
      }
    }
    const bare = await bareMemory(env);
    const imports = await importCosts(env, runs);

    const floorMs = median(floorHttp.map((s) => s.eventMs));
    const rows: string[][] = [
      ['floor: `node -e 0` (spawn → exit)', '–', '–', ms(median(floorExit)), mb(bare.hwmKb), mb(bare.rssKb), '–', '–', '–', '–'],
      ['floor: bare `node:http` server → 204', '–', ms(median(floorHttp.map((s) => s.listenMs))), ms(floorMs), mb(median(floorHttp.map((s) => s.hwmKb))), mb(median(floorHttp.map((s) => s.rssKb))), '1.0×', '–', '–', '–'],
    ];
    const missed: string[] = [];
    for (const target of COLD_TARGETS) {
      for (const variant of target.variants ?? VARIANTS) {
        const list = samples.get(`${nameOf(target)}|${variant}`)!;
        const eventMs = median(list.map((s) => s.eventMs));
        const hwmKb = median(list.map((s) => s.hwmKb));
        const timeOk = eventMs <= TARGETS.startMs;
        const memoryOk = hwmKb / 1024 <= TARGETS.rssMb;
        if (variant !== 'source' && (!timeOk || !memoryOk)) missed.push(`${nameOf(target)} (${variant}): ${ms(eventMs)} ms, ${mb(hwmKb)} MB`);
        rows.push([
          target.label ?? `\`${target.target}\``, variant, ms(median(list.map((s) => s.listenMs))), ms(eventMs), mb(hwmKb), mb(median(list.map((s) => s.rssKb))),
          ratio(eventMs, floorMs), met(timeOk), met(memoryOk), ms(median(list.map((s) => s.warmMs ?? Number.NaN))),
        ]);
      }
    }
    const table = renderTable({
      head: ['target', 'variant', 'spawn → listening (ms)', 'spawn → first event 204 (ms)', 'peak RSS (MB)', 'RSS after (MB)', 'vs http floor', `≤ ${TARGETS.startMs} ms`, `≤ ${TARGETS.rssMb} MB`, `next ${WARM_EVENTS} events, median (ms)`],
      rows,
    });
    const importTable = renderTable({
      head: ['module (imported alone, fresh process)', 'import (ms)', 'peak RSS (MB)', 'over bare node (MB)'],
      rows: [
        ['bare node (nothing imported)', '0', mb(bare.hwmKb), '0'],
        ...imports.map((i) => [`\`${i.module}\``, ms(i.ms), mb(i.hwmKb), mb(i.hwmKb - bare.hwmKb)]),
      ],
    });
    const markdown = `Medians of ${runs} runs per row (each run a fresh process; the compile caches were filled by one discarded run per target). Peak and final RSS are read from /proc after the first event's 204; the last column is the same process handling the same event ${WARM_EVENTS} more times (warm: connection and parsed schemas reused).\n\n${table}\n\nWhere the start goes: each module imported alone in a fresh process (median of ${runs}).\n\n${importTable}`;
    const verdict = missed.length ? `cold-start targets missed by: ${missed.join('; ')}` : 'cold-start targets met by every bundle variant';
    return { markdown, verdict };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** A bare node:http server answering 204: what any Node HTTP function pays at least. */
async function httpFloor(env: NodeJS.ProcessEnv): Promise<Sample> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.statusCode = 204; s.end(); }); }).listen(${port}, '127.0.0.1', () => console.log('{"outcome":"listening"}'))`;
  const started = await startListening({ args: ['-e', code], env });
  try {
    const response = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' });
    await response.body.text();
    const doneAt = performance.now();
    return { listenMs: started.listeningAt - started.spawnedAt, eventMs: doneAt - started.spawnedAt, ...(await memoryOf(started.child.pid!)) };
  } finally {
    await stopChild(started.child);
  }
}

const STATUS_PROBE = `const s = require('node:fs').readFileSync('/proc/self/status', 'utf8'); const f = (n) => Number(new RegExp('^' + n + ':\\\\s+(\\\\d+)', 'm').exec(s)[1]);`;

async function bareMemory(env: NodeJS.ProcessEnv): Promise<{ hwmKb: number; rssKb: number }> {
  const { stdout } = await runToExit({ args: ['-e', `${STATUS_PROBE} console.log(JSON.stringify({ hwmKb: f('VmHWM'), rssKb: f('VmRSS') }))`], env });
  return JSON.parse(stdout) as { hwmKb: number; rssKb: number };
}

async function importCosts(env: NodeJS.ProcessEnv, runs: number): Promise<{ module: string; ms: number; hwmKb: number }[]> {
  const results: { module: string; ms: number; hwmKb: number }[] = [];
  for (const module of IMPORTS) {
    const times: number[] = [];
    const peaks: number[] = [];
    for (let run = 0; run < runs; run++) {
      const code = `const t = performance.now(); await import(${JSON.stringify(module)}); const ms = performance.now() - t; const { readFileSync } = await import('node:fs'); const s = readFileSync('/proc/self/status', 'utf8'); console.log(JSON.stringify({ ms, hwmKb: Number(/^VmHWM:\\s+(\\d+)/m.exec(s)[1]) })); process.exit(0);`;
      const { stdout } = await runToExit({ args: ['--input-type=module', '-e', code], env, cwd: repoRoot });
      const parsed = JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number; hwmKb: number };
      times.push(parsed.ms);
      peaks.push(parsed.hwmKb);
    }
    results.push({ module, ms: median(times), hwmKb: median(peaks) });
  }
  return results;
}
