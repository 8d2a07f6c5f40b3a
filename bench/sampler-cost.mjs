// What one sampling tick of 200 live processes costs the monitor, per source (/proc vs pidusage).
//
//   node bench/sampler-cost.mjs [processes=200] [ticks=20]
//
// CPU is process.cpuUsage() (user + system, every thread: pidusage reads through the libuv
// thread pool, V8 collects garbage on helper threads). `cpu` runs from the end of a warm-up tick
// to the end of the last measured tick, divided by the ticks: all the monitor pays, idle waits
// included (they cost next to nothing, see `empty`). `in tick` counts only from asking for the
// pids to onSample; `wall` is that span in time (for /proc, the event loop is blocked that long).
// Other processes competing for the CPUs inflate the numbers: compare sources within one run.
// Target: <= 5 ms of CPU per tick of 200 processes.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const COUNT = Number(process.argv[2] ?? 200);
const TICKS = Number(process.argv[3] ?? 20);
const WARMUP = 10; // past V8's tiering of the read loop
const ROUNDS = 3;
const INTERVAL_MS = 50;

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'procscope-bench-'));
const children = [];

// Whatever happens, no sleep outlives the bench.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
});

async function loadSampler() {
  const outfile = join(outDir, 'sampler.mjs');
  buildSync({
    entryPoints: [join(root, 'src-main/core/sampler.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    // pidusage is CommonJS and requires node builtins: give the ESM bundle a real require.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return import(outfile);
}

/**
 * Runs WARMUP + TICKS ticks. Returns, per measured tick, in ms: `cpu` over the whole period
 * (what the monitor pays, GC and timers included), `inTick` from asking for the pids to onSample,
 * its user/system split, and `wall` for the same span.
 */
async function measure(Sampler, source, pids) {
  return new Promise((resolve, reject) => {
    let tick = 0;
    let periodStart;
    let tickCpu;
    let tickStart = 0;
    const sum = { wall: 0, user: 0, system: 0, samples: 0 };
    const sampler = new Sampler({
      intervalMs: INTERVAL_MS,
      source,
      pids: () => {
        tickStart = performance.now();
        tickCpu = process.cpuUsage();
        return pids;
      },
      onSample: (s) => {
        const used = process.cpuUsage(tickCpu);
        tick++;
        if (tick === WARMUP) periodStart = process.cpuUsage();
        if (tick <= WARMUP) return;
        sum.wall += performance.now() - tickStart;
        sum.user += used.user;
        sum.system += used.system;
        sum.samples += s.length;
        if (tick === WARMUP + TICKS) {
          const period = process.cpuUsage(periodStart);
          sampler.stop();
          resolve({
            cpu: (period.user + period.system) / 1000 / TICKS,
            inTick: (sum.user + sum.system) / 1000 / TICKS,
            user: sum.user / 1000 / TICKS,
            system: sum.system / 1000 / TICKS,
            wall: sum.wall / TICKS,
            perTick: sum.samples / TICKS,
          });
        }
      },
      onError: (e) => {
        sampler.stop();
        reject(e);
      },
    });
    sampler.start();
  });
}

/** The first tick of a fresh process: pidusage spawns `getconf` twice, we read /proc/self/auxv. */
async function firstTick(Sampler, source, pids) {
  return new Promise((resolve) => {
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    const sampler = new Sampler({
      intervalMs: INTERVAL_MS,
      source,
      pids: () => pids,
      onSample: () => {
        sampler.stop();
        const used = process.cpuUsage(cpuStart);
        resolve({ cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0 });
      },
    });
    sampler.start();
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => n.toFixed(2).padStart(7);

async function main() {
  const { Sampler } = await loadSampler();

  for (let i = 0; i < COUNT; i++) children.push(spawn('sleep', ['30'], { stdio: 'ignore' }));
  await Promise.all(children.map((c) => once(c, 'spawn')));
  const pids = children.map((c) => c.pid);

  console.log(`${COUNT} sleeping processes, ${TICKS} ticks of ${INTERVAL_MS} ms per round, median of ${ROUNDS} rounds`);
  const first = {
    pidusage: await firstTick(Sampler, 'pidusage', pids),
    proc: process.platform === 'linux' ? await firstTick(Sampler, 'proc', pids) : undefined,
  };

  const sources = process.platform === 'linux' ? ['proc', 'pidusage'] : ['pidusage'];
  const results = Object.fromEntries([...sources, 'empty'].map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Interleave the sources so a noisy moment does not land on one of them only.
    for (const source of sources) results[source].push(await measure(Sampler, source, pids));
    results.empty.push(await measure(Sampler, 'auto', []));
  }

  const col = (rs, key) => fmt(median(rs.map((r) => r[key])));
  console.log('ms per tick   cpu   in tick (user + sys)     wall   samples   first tick cpu / wall');
  for (const [source, rs] of Object.entries(results)) {
    const f = first[source];
    console.log(
      `${source.padEnd(8)} ${col(rs, 'cpu')} ${col(rs, 'inTick')} (${col(rs, 'user')} +${col(rs, 'system')}) ${col(rs, 'wall')}` +
        `   ${String(median(rs.map((r) => r.perTick))).padStart(5)}   ${f ? `${fmt(f.cpuMs)} / ${fmt(f.wallMs)}` : '-'}`,
    );
  }
  console.log('(empty: a tick with no pids, the cost of the timer and the loop themselves)');
  for (const s of sources) {
    const cpu = median(results[s].map((r) => r.cpu));
    console.log(`${s}: ${cpu <= 5 ? 'within' : 'OVER'} the 5 ms target for ${COUNT} processes`);
  }
}

try {
  await main();
} finally {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of alive) c.kill('SIGKILL');
  await Promise.all(alive.map((c) => once(c, 'exit')));
}
