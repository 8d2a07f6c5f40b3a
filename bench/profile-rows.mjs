// Rows 11 to 13 of bench/RESULTS.md (what profiling costs), from bench/profile-cost.mjs's summary,
// and their section: what was measured, and what py-spy and Austin say of their own overhead.

const pct = (x) => `${(x * 100).toFixed(1)}%`;

/** The table rows, in bench/run.mjs's shape. */
export function profileRows(p) {
  const rows = [];
  for (const [runtime, label] of [
    ['python', 'Python, `Pool(4).map` of a CPU-bound function (bench/python/pool_burn.py)'],
    ['typescript', 'TypeScript twin (bench/scenarios/pool-burn.ts)'],
  ]) {
    const s = p.seconds[runtime];
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    rows.push({
      bench: `11${runtime === 'python' ? '' : 'b'}. Profiling at ${p.hz} Hz: ${label}, map call, profiled vs unprofiled (both under procscope)`,
      metric: 's (speed kept)',
      ours: `${med(s.on).toFixed(3)} (${pct(p.kept[runtime])})`,
      python: `${med(s.off).toFixed(3)}`,
      ratio: p.kept[runtime].toFixed(3),
      better: 'higher',
      target: 'keeps >= 95% of its speed (ratio: unprofiled / profiled time)',
      pass: p.kept[runtime] >= 0.95,
    });
  }
  rows.push({
    bench: "12. Profiling: the monitor's CPU to check, intern and log the samples (rows 11's profiled runs, sent again through its code)",
    metric: 'ms CPU / 1,000 samples',
    ours: `${p.monitor.python.msPer1000.toFixed(2)} (py) / ${p.monitor.typescript.msPer1000.toFixed(2)} (ts)`,
    python: '-',
    ratio: '-',
    better: 'lower',
    target: '(information: 100 Hz x 5 processes is 500 samples/s)',
    pass: null,
  });
  rows.push({
    bench: '13. Profiling: run-log bytes per sample (frames, stacks and samples lines of rows 11, over their samples)',
    metric: 'bytes / sample',
    ours: `${p.bytesPerSample.python.toFixed(1)} (py) / ${p.bytesPerSample.typescript.toFixed(1)} (ts)`,
    python: '-',
    ratio: '-',
    better: 'lower',
    target: `(information: ${p.samples.python} and ${p.samples.typescript} samples)`,
    pass: null,
  });
  return rows;
}

/** The section of RESULTS.md about rows 11 to 13. */
export function profileSection(p) {
  const runs = (xs) => xs.map((x) => x.toFixed(3)).join(', ');
  return `## What profiling costs (benchmarks 11, 12 and 13)

Benchmark 11 runs a CPU-bound \`Pool(4).map\` (${p.reps} times each way, interleaved, which one goes
first alternating) under \`procscope run\`, unprofiled and with \`--profile\` (${p.hz} samples a second
in every process), and times the map call: **ours** is the profiled time, **python** the unprofiled
one (both runs are procscope's; the column names are the table's), the ratio the share of its speed
the program keeps: the median, over the ${p.reps} pairs of runs made back to back, of each pair's
unprofiled / profiled time. In a Python process the samples are taken in the main thread's SIGPROF
handler while it computes (one \`sys._current_frames()\`, one walk of the frames with dictionary
look-ups, one thread-CPU clock read per thread, per sample), by procscope's own thread while it
waits; in a TypeScript process by V8's sampler, the profile taken and the profiler restarted once a
second and before each pool result.

All runs (map seconds): Python unprofiled [${runs(p.seconds.python.off)}], profiled [${runs(p.seconds.python.on)}];
TypeScript unprofiled [${runs(p.seconds.typescript.off)}], profiled [${runs(p.seconds.typescript.on)}]. Load average (1, 5,
15 min) ${p.load.start} when this group started, ${p.load.end} when it ended: on this shared machine the
spread between runs of one kind is larger than what profiling costs, and a ratio over 1 says only that.

Benchmark 12 sends the profiled runs' samples again, as the processes sent them (\`prof\` messages in
JSON frames, ${p.monitor.python.messages} and ${p.monitor.typescript.messages} of them), through the monitor's own code bundled from source
(\`FrameDecoder\`, \`isUpMessage\`, \`ProfileCollector\`, \`RunLogWriter\`), and divides its CPU time by
the samples. Benchmark 13 is the size of the profile's log lines over the samples they hold.

What the two profilers people compare procscope with say of their own cost (their READMEs):

- py-spy: "py-spy is extremely low overhead: it is written in Rust for speed and doesn't run in the
  same process as the profiled Python program." It reads the interpreter's memory from outside
  (ptrace, root on macOS), so the program pays nothing, and py-spy's own CPU runs beside it.
- Austin: "Samples are collected by reading the CPython interpreter virtual memory space [...]
  Hence, one can use Austin to easily make powerful statistical profilers that have minimal impact
  on the target application and that don't require any instrumentation."

procscope samples from inside each process (no privilege, every process of the run, TypeScript
too), so the sampling's CPU is the program's: that is what row 11 measures.
`;
}
