// How every scenario process starts: connect to the broker, capture output, load the scenario,
// then run main (the root) or the Process this child was started as, and exit the way Python's
// multiprocessing does (exit codes, tracebacks, joining children at exit).

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { deserialize } from 'node:v8';
import { ENV_COMPILED, ENV_ROLE, ENV_SCENARIO, ENV_SOCKET } from '../protocol.ts';
import { BrokerClient, setClient } from './connection.ts';
import { self, setScenario } from './context.ts';
import { endRun, monitorGone, rememberRun } from './run-end.ts';
import { unmarshal } from './marshal.ts';
import { ownOutput } from './own-output.ts';
import { startProfiler } from './profiler.ts';
import { Process, builtinTargets, joinChildrenAtExit, prewarm, runControl, type ChildSpec, type Target } from './process.ts';

const BOOTED = new Uint8Array([1]);

function oneLine(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.split('\n')[0];
  return String(err).split('\n')[0];
}

function stackOf(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `Uncaught ${String(err)}`;
}

/** Sends everything this process prints to the broker, tagged with its pid by the connection. */
function captureOutput(client: BrokerClient): void {
  for (const [stream, s] of [
    [process.stdout, 0],
    [process.stderr, 1],
  ] as const) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      client.send({ k: 'out', s, text });
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
}

export async function boot(): Promise<void> {
  const socketPath = process.env[ENV_SOCKET];
  const scenarioPath = process.env[ENV_SCENARIO];
  const role = process.env[ENV_ROLE];
  // The monitor's compiled copy of the scenario, when it made one: the module loaded is that copy,
  // while every message, and scenario().path, names the file the user wrote.
  const compiled = process.env[ENV_COMPILED] || null;
  if (!socketPath || !scenarioPath || (role !== 'main' && role !== 'child')) {
    process.stderr.write('procscope: this entry point is started by procscope only\n');
    process.exit(2);
  }

  let spec: ChildSpec | null = null;
  if (role === 'child') {
    // Booted: the parent holds back its next spare until its children have come this far.
    try {
      fs.writeSync(3, BOOTED);
    } catch {
      // The parent is gone: the read below ends at once.
    }
    // The parent writes our spec to fd 3 and closes it; an empty read means the parent died.
    const bytes = fs.readFileSync(3);
    if (bytes.length === 0) process.exit(1);
    spec = deserialize(bytes) as ChildSpec;
    // A spare was spawned before start(): take on the parent's folder and environment as of then.
    if (spec.cwd && spec.cwd !== process.cwd()) process.chdir(spec.cwd);
    if (spec.env) {
      for (const k of Object.keys(process.env)) if (!(k in spec.env)) delete process.env[k];
      Object.assign(process.env, spec.env, { [ENV_ROLE]: 'child' });
    }
    self.name = spec.name;
    self.daemon = spec.daemon;
    self.identity = spec.identity;
  }

  if (role === 'main') rememberRun();
  const client = await BrokerClient.connect(socketPath);
  setClient(client);
  // Without the monitor no queue or lock works, and nobody would stop this process: end it, and
  // if the monitor died, the whole run with it (see run-end.ts).
  client.onLost = () => {
    if (monitorGone()) endRun();
    process.exit(1);
  };
  client.onControl = (m) => {
    void runControl(m.op, m.handle, m.timeout).then((r) => {
      client.send({ k: 'ctlres', rid: m.rid, ...r });
      client.flush();
    });
  };
  // A child names the Process object it is and how much of its parent's reports come before it
  // (see protocol.ts): it is listed at this hello, after what its parent said first.
  client.send({ k: 'hello', pid: process.pid, ppid: process.ppid, name: self.name, daemon: self.daemon, ...(spec ? { handle: spec.handle, after: spec.after } : {}) });
  await ownOutput();
  // Before the exit handler below: the last samples go out before the bye.
  startProfiler(client);
  captureOutput(client);
  process.on('exit', (code) => {
    // What it used, from itself: once its parent reaps it, nobody else can read it.
    const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage();
    client.send({ k: 'bye', exitcode: code, cpu: (userCPUTime + systemCPUTime) / 1e6, maxrss: maxRSS * 1024 });
    client.flushSync();
  });
  let exitcode = 0;
  const fatal = (message: string) => client.send({ k: 'fatal', message });
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${stackOf(err)}\n`);
    fatal(`uncaught ${oneLine(err)}`);
    process.exit(1);
  });

  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(compiled ?? scenarioPath).href)) as Record<string, unknown>;
  } catch (err) {
    process.stderr.write(`${stackOf(err)}\n`);
    fatal(`cannot load scenario ${scenarioPath}: ${oneLine(err)}`);
    process.exit(1);
  }
  setScenario(scenarioPath, ns);

  if (spec === null) {
    prewarm();
    const main = ns.default;
    if (typeof main !== 'function') {
      const msg = `scenario ${scenarioPath} has no default export: export default async function main() { ... }`;
      process.stderr.write(`${msg}\n`);
      fatal(msg);
      process.exit(1);
    }
    try {
      await (main as () => unknown)();
    } catch (err) {
      process.stderr.write(`${stackOf(err)}\n`);
      fatal(`main raised ${oneLine(err)}`);
      exitcode = 1;
    }
  } else {
    try {
      const me = revive(spec, ns);
      await me.run();
    } catch (err) {
      // Python prints "Process <name>:" and the traceback, then exits with code 1.
      process.stderr.write(`Process ${self.name}:\n${stackOf(err)}\n`);
      exitcode = 1;
    }
  }
  await joinChildrenAtExit();
  // A process that printed a lot may have more queued than the socket took at once.
  await client.drain();
  process.exit(exitcode);
}

function revive(spec: ChildSpec, ns: Record<string, unknown>): Process {
  let cls: typeof Process | null = null;
  if (spec.cls) {
    const c = ns[spec.cls];
    if (typeof c !== 'function') throw new Error(`Process subclass ${spec.cls} is no longer exported by the scenario`);
    cls = c as typeof Process;
  }
  let target: Target | null = null;
  if (spec.target) {
    const t = spec.target.startsWith('builtin:') ? builtinTargets.get(spec.target.slice(8)) : ns[spec.target];
    if (typeof t !== 'function') throw new Error(`target ${spec.target} is no longer exported by the scenario`);
    target = t as Target;
  }
  const args = unmarshal(spec.args) as unknown[];
  const p = Process.revive(spec, cls, target, args);
  if (spec.state) Object.assign(p, unmarshal(spec.state));
  return p;
}
