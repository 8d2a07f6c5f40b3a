// What profiling costs (bench rows 11 to 13), run by bench/run.mjs (group `profile`) or alone:
//
//   node bench/profile-cost.mjs        (uses whatever out/ holds; BENCH_PROFILE_REPS=5)
//
// 11. A CPU-bound Pool(4).map (bench/python/pool_burn.py, and its TypeScript twin
//     bench/scenarios/pool-burn.ts), each under `procscope run`, unprofiled and profiled at 100 Hz,
//     interleaved (which goes first alternates): the share of its speed the program keeps.
// 12. The monitor's CPU per 1,000 samples: the profiled runs' samples, sent again as the processes
//     sent them (`prof` frames), through the monitor's own code, bundled from source: the frame
//     decoder, the message check, the run-wide interning and the run-log writer.
// 13. The run log's bytes per sample: the profile's lines (frames, stacks, samples) of the
//     profiled runs, over their samples.
//
// Prints the human table and, last, one line `PROFILE_RESULT <json>` for bench/run.mjs.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * More rounds than the other groups: what profiling costs (a few %) is smaller than the machine's
 * noise (the same map call varies by 10% and more from run to run on this shared 2-core machine).
 */
const REPS = Number(process.env.BENCH_PROFILE_REPS ?? 11);
const HZ = 100;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-profile-bench-'));
const keep = process.env.BENCH_KEEP_LOGS === '1';
process.on('exit', () => {
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
});

const PROGRAMS = {
  python: ['bench/python/pool_burn.py'],
  typescript: ['bench/scenarios/pool-burn.ts'],
};

let counter = 0;

async function runOnce(runtime, profiled) {
  const log = path.join(dir, `${runtime}-${profiled ? 'on' : 'off'}-${++counter}.jsonl`);
  const args = ['out/cli/procscope.mjs', 'run', ...PROGRAMS[runtime], '--log', log, ...(profiled ? ['--profile', '--hz', String(HZ)] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (out += s));
  const [code] = await once(child, 'close');
  const m = /RESULT burn_s (\S+)/.exec(out);
  if (code !== 0 || !m || !/CHECK result (True|true)/.test(out)) throw new Error(`procscope run ${args.join(' ')} failed (exit ${code}):\n${out.slice(-3000)}`);
  return { seconds: Number(m[1]), log };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The profile lines of a log: their bytes, and the samples they hold. */
function profileBytes(log) {
  let bytes = 0;
  let samples = 0;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!/^\{"t":[^,]*,"type":"(frames|stacks|samples)"/.test(line)) continue;
    bytes += Buffer.byteLength(line) + 1;
    if (line.includes('"type":"samples"')) samples += JSON.parse(line).dt.length;
  }
  return { bytes, samples };
}

/**
 * The `prof` messages the processes of a run sent, rebuilt from its log: each process's own
 * tables (ids from 0), the frames and stacks it defines with its first sample that uses them.
 */
function messagesOf(log) {
  const frames = [];
  const parent = [];
  const frameOf = [];
  const tables = new Map();
  const out = [];
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.type === 'frames') e.frames.forEach((f, i) => (frames[e.first + i] = f));
    else if (e.type === 'stacks') e.stacks.forEach(([p, f], i) => ((parent[e.first + i] = p), (frameOf[e.first + i] = f)));
    else if (e.type === 'samples') {
      let t = tables.get(e.pid);
      if (!t) tables.set(e.pid, (t = { frames: new Map(), stacks: new Map(), threads: new Map() }));
      const msg = { k: 'prof', fb: t.frames.size, f: [], sb: t.stacks.size, s: [], th: [], d: [], ti: [], st: [], c: e.cpu };
      if (!t.threads.has(e.thread)) {
        t.threads.set(e.thread, t.threads.size);
        msg.th.push([t.threads.get(e.thread), e.thread]);
      }
      const local = (s) => {
        if (t.stacks.has(s)) return t.stacks.get(s);
        const p = parent[s] >= 0 ? local(parent[s]) : -1;
        let f = t.frames.get(frameOf[s]);
        if (f === undefined) {
          f = t.frames.size;
          t.frames.set(frameOf[s], f);
          msg.f.push(frames[frameOf[s]]);
        }
        const id = t.stacks.size;
        t.stacks.set(s, id);
        msg.s.push([p, f]);
        return id;
      };
      e.dt.forEach((dt, i) => {
        msg.d.push(i === 0 ? Math.round(e.t * 1000) : dt);
        msg.ti.push(t.threads.get(e.thread));
        msg.st.push(local(e.stacks[i]));
      });
      out.push({ pid: e.pid, msg });
    }
  }
  return out;
}

async function monitorCost(logs) {
  const entry = path.join(dir, 'pipeline.ts');
  fs.writeFileSync(
    entry,
    [
      `export { FrameDecoder, encodeFrame, isUpMessage, Codec } from ${JSON.stringify(path.join(root, 'src-main/protocol.ts'))};`,
      `export { ProfileCollector } from ${JSON.stringify(path.join(root, 'src-main/core/profile/collector.ts'))};`,
      `export { RunLogWriter } from ${JSON.stringify(path.join(root, 'src-main/core/runlog/writer.ts'))};`,
    ].join('\n'),
  );
  const outfile = path.join(dir, 'pipeline.mjs');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'warning' });
  const { FrameDecoder, encodeFrame, isUpMessage, Codec, ProfileCollector, RunLogWriter } = await import(outfile);
  const result = {};
  for (const [runtime, log] of Object.entries(logs)) {
    const sent = messagesOf(log);
    const samples = sent.reduce((n, m) => n + m.msg.d.length, 0);
    // As the broker reads them: each process's frames on its own connection, in JSON (the shim's codec).
    const wire = sent.map(({ pid, msg }) => ({ pid, bytes: encodeFrame(msg, Codec.JSON) }));
    const perThousand = [];
    const rounds = Math.max(5, Math.ceil(100_000 / Math.max(1, samples)));
    for (let r = 0; r < rounds; r++) {
      const file = path.join(dir, `replay-${runtime}-${r}.jsonl`);
      const writer = RunLogWriter.open(file);
      const collector = new ProfileCollector((e) => writer.append(e), (_pid, why) => {
        throw new Error(why);
      });
      const decoders = new Map();
      const cpu0 = process.cpuUsage();
      for (const { pid, bytes } of wire) {
        let dec = decoders.get(pid);
        if (!dec) decoders.set(pid, (dec = new FrameDecoder()));
        dec.push(bytes, (m) => {
          if (!isUpMessage(m)) throw new Error('a replayed message failed the check');
          collector.receive(pid, m);
        });
      }
      writer.close();
      const cpu = process.cpuUsage(cpu0);
      perThousand.push(((cpu.user + cpu.system) / 1000 / samples) * 1000);
      fs.rmSync(file, { force: true });
    }
    result[runtime] = { msPer1000: median(perThousand), samples, messages: sent.length };
  }
  return result;
}

async function main() {
  const loadStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const seconds = { python: { off: [], on: [] }, typescript: { off: [], on: [] } };
  const lastLogs = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const runtime of ['python', 'typescript']) {
      // Which goes first alternates: a noisy moment does not land on one side only.
      for (const profiled of rep % 2 === 0 ? [false, true] : [true, false]) {
        const r = await runOnce(runtime, profiled);
        seconds[runtime][profiled ? 'on' : 'off'].push(r.seconds);
        if (profiled) lastLogs[runtime] = r.log;
        process.stderr.write(`  | ${runtime} ${profiled ? 'profiled  ' : 'unprofiled'} ${r.seconds.toFixed(3)} s\n`);
      }
    }
  }
  const bytes = Object.fromEntries(Object.entries(lastLogs).map(([k, log]) => [k, profileBytes(log)]));
  const monitor = await monitorCost(lastLogs);
  const loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const summary = {
    hz: HZ,
    reps: REPS,
    seconds,
    // Each rep's two runs ran back to back: the median of their ratios, not the ratio of medians,
    // so that a slow stretch of the machine weighs on both sides of a pair.
    kept: Object.fromEntries(Object.entries(seconds).map(([k, s]) => [k, median(s.off.map((off, i) => off / s.on[i]))])),
    bytesPerSample: Object.fromEntries(Object.entries(bytes).map(([k, b]) => [k, b.bytes / Math.max(1, b.samples)])),
    samples: Object.fromEntries(Object.entries(bytes).map(([k, b]) => [k, b.samples])),
    monitor,
    load: { start: loadStart, end: loadEnd },
  };
  for (const runtime of ['python', 'typescript']) {
    process.stdout.write(
      `${runtime.padEnd(10)} map ${median(seconds[runtime].off).toFixed(3)} s unprofiled, ${median(seconds[runtime].on).toFixed(3)} s profiled: keeps ${(summary.kept[runtime] * 100).toFixed(1)}% of its speed; ` +
        `${summary.samples[runtime]} samples, ${summary.bytesPerSample[runtime].toFixed(1)} log bytes each; monitor ${monitor[runtime].msPer1000.toFixed(2)} ms CPU per 1,000 samples\n`,
    );
  }
  process.stdout.write(`PROFILE_RESULT ${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
