// Command-line parsing: small and strict. Every mistake is one line naming what was wrong.

import { PROFILE_HZ, type Runtime } from '../api.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type Command =
  | { cmd: 'help' }
  | { cmd: 'version' }
  | { cmd: 'presets'; json: boolean }
  | {
      cmd: 'run';
      scenario: string;
      log?: string;
      interval?: number;
      timeout?: number;
      json: boolean;
      python?: string;
      /** Set by --py (or implied by --python for a preset): run a preset's Python original. */
      runtime?: Runtime;
      /** After `--`: the program's own arguments. */
      args: string[];
      /** --profile [--hz N]: profile every process at this rate. */
      profile?: { hz: number };
    }
  | { cmd: 'export'; log: string; format: 'csv' | 'trace' | 'speedscope'; out?: string }
  | { cmd: 'compare'; a: string; b: string; json: boolean }
  | { cmd: 'serve'; port?: number }
  | { cmd: 'ui' };

export const USAGE = `usage:
  procscope presets [--json]
  procscope run <preset | file.py | file.ts | file.js> [--py] [--python PATH] [--log FILE] [--interval MS] [--timeout S] [--profile [--hz N]] [--json] [-- ARGS...]
  procscope export <log.jsonl> --format csv|trace|speedscope [-o FILE]
  procscope compare <A.jsonl> <B.jsonl> [--json]
  procscope serve [--port N]
  procscope ui
  procscope --help | --version`;

interface Spec {
  flags: Set<string>;
  values: Set<string>;
}

function parseOptions(argv: string[], spec: Spec): { positional: string[]; opts: Map<string, string | true>; rest: string[] | null } {
  const positional: string[] = [];
  const opts = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return { positional, opts, rest: argv.slice(i + 1) };
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (spec.flags.has(name)) {
        if (eq > 0) throw new UsageError(`${name} takes no value`);
        opts.set(name, true);
      } else if (spec.values.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
        opts.set(name, v);
      } else {
        throw new UsageError(`unknown option ${name}`);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, opts, rest: null };
}

/** Commands without program arguments: after `--` come more positionals (a file named `-x`). */
function parseAll(argv: string[], spec: Spec): { positional: string[]; opts: Map<string, string | true> } {
  const { positional, opts, rest } = parseOptions(argv, spec);
  return { positional: rest ? [...positional, ...rest] : positional, opts };
}

function number(opts: Map<string, string | true>, name: string, what: string): number | undefined {
  const v = opts.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be ${what}, got '${v}'`);
  return n;
}

export function parseArgs(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') return { cmd: 'help' };
  if (cmd === '--version' || cmd === '-v') return { cmd: 'version' };
  switch (cmd) {
    case 'presets': {
      const { positional, opts } = parseAll(rest, { flags: new Set(['--json']), values: new Set() });
      if (positional.length) throw new UsageError(`presets takes no arguments, got '${positional[0]}'`);
      return { cmd: 'presets', json: opts.has('--json') };
    }
    case 'run': {
      const { positional, opts, rest: programArgs } = parseOptions(rest, {
        flags: new Set(['--json', '--py', '--profile']),
        values: new Set(['--log', '--interval', '--timeout', '--python', '--hz']),
      });
      if (positional.length === 0) throw new UsageError('run needs a preset id or a scenario file');
      if (positional.length > 1) throw new UsageError(`run takes one scenario, got also '${positional[1]}' (the program's own arguments go after --)`);
      const interval = number(opts, '--interval', 'a whole number of milliseconds');
      if (interval !== undefined && (!Number.isInteger(interval) || interval < 50 || interval > 10000)) {
        throw new UsageError(`--interval must be between 50 and 10000 ms, got '${opts.get('--interval')}'`);
      }
      const hz = number(opts, '--hz', 'a whole number of samples a second');
      if (hz !== undefined && !opts.has('--profile')) throw new UsageError('--hz sets the rate of --profile: add --profile');
      if (hz !== undefined && (!Number.isInteger(hz) || hz < PROFILE_HZ.min || hz > PROFILE_HZ.max)) {
        throw new UsageError(`--hz must be between ${PROFILE_HZ.min} and ${PROFILE_HZ.max} samples a second, got '${opts.get('--hz')}'`);
      }
      return {
        cmd: 'run',
        scenario: positional[0],
        log: opts.get('--log') as string | undefined,
        interval,
        timeout: number(opts, '--timeout', 'a positive number of seconds'),
        json: opts.has('--json'),
        ...(opts.has('--python') ? { python: opts.get('--python') as string } : {}),
        ...(opts.has('--py') ? { runtime: 'python' as const } : {}),
        ...(opts.has('--profile') ? { profile: { hz: hz ?? PROFILE_HZ.default } } : {}),
        args: programArgs ?? [],
      };
    }
    case 'export': {
      const { positional, opts } = parseAll(rest, { flags: new Set(), values: new Set(['--format', '-o', '--output']) });
      if (positional.length !== 1) throw new UsageError('export needs exactly one log file');
      const format = opts.get('--format');
      if (format !== 'csv' && format !== 'trace' && format !== 'speedscope') {
        throw new UsageError(format === undefined ? 'export needs --format csv, trace or speedscope' : `unknown format '${format}' (csv, trace or speedscope)`);
      }
      const out = (opts.get('-o') ?? opts.get('--output')) as string | undefined;
      return { cmd: 'export', log: positional[0], format, out };
    }
    case 'compare': {
      const { positional, opts } = parseAll(rest, { flags: new Set(['--json']), values: new Set() });
      if (positional.length !== 2) throw new UsageError(`compare needs two run logs, got ${positional.length}`);
      return { cmd: 'compare', a: positional[0], b: positional[1], json: opts.has('--json') };
    }
    case 'serve': {
      const { positional, opts } = parseAll(rest, { flags: new Set(), values: new Set(['--port']) });
      if (positional.length) throw new UsageError(`serve takes no arguments, got '${positional[0]}'`);
      const raw = opts.get('--port');
      if (raw === undefined) return { cmd: 'serve' };
      const port = Number(raw);
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || port < 1 || port > 65535) {
        throw new UsageError(`--port must be a port number (1..65535), got '${raw}'`);
      }
      return { cmd: 'serve', port };
    }
    case 'ui':
      if (rest.length) throw new UsageError(`ui takes no arguments, got '${rest[0]}'`);
      return { cmd: 'ui' };
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}
