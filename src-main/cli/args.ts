// Command-line parsing: node:util's parseArgs, strict, and every mistake one line naming what
// was wrong.

import { parseArgs as parse, type ParseArgsConfig } from 'node:util';
import { PROFILE_HZ, type Runtime } from '../api.ts';
import { intervalProblem } from '../common/interval.ts';

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
      /** --shared-calls: log each call on a manager's shared objects. */
      sharedCalls: boolean;
    }
  | { cmd: 'export'; log: string; format: 'csv' | 'trace' | 'speedscope'; out?: string }
  | { cmd: 'compare'; a: string; b: string; json: boolean }
  | { cmd: 'serve'; port?: number }
  | { cmd: 'ui' };

export const USAGE = `usage:
  procscope presets [--json]
  procscope run <preset | file.py | file.ts | file.js> [--py] [--python PATH] [--log FILE] [--interval MS] [--timeout S] [--profile [--hz N]] [--shared-calls] [--json] [-- ARGS...]
  procscope export <log.jsonl> --format csv|trace|speedscope [-o FILE]
  procscope compare <A.jsonl> <B.jsonl> [--json]
  procscope serve [--port N]   (0 or none: any free port)
  procscope ui
  procscope --help | --version`;

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Parsed {
  values: Values;
  positionals: string[];
  /** What came after `--`, or null when there was no `--`. */
  rest: string[] | null;
}

/** Node's parseArgs, its errors turned into one line each. */
function parseOptions(argv: string[], options: Options): Parsed {
  let out;
  try {
    out = parse({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(usageLine(err as Error & { code?: string }, argv));
  }
  const end = out.tokens.find((t) => t.kind === 'option-terminator');
  const before = end ? out.tokens.filter((t) => t.index < end.index) : out.tokens;
  const positionals = before.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  for (const [name, v] of Object.entries(out.values)) {
    if (v === '') throw new UsageError(`--${name} needs a value`);
  }
  return { values: out.values as Values, positionals, rest: end ? argv.slice(end.index + 1) : null };
}

function usageLine(err: Error & { code?: string }, argv: string[]): string {
  const named = /'(-[^' ]+)/.exec(err.message)?.[1]?.replace(/=.*$/, '');
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${named ?? argv.find((a) => a.startsWith('-')) ?? ''}`.trim();
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /does not take an argument/.test(err.message) ? `${named} takes no value` : `${named} needs a value`;
  }
  return err.message.split('\n')[0];
}

function positive(values: Values, name: string, what: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be ${what}, got '${String(v)}'`);
  return n;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** --hz, or the default rate; only with --profile. */
function profileRate(values: Values): number {
  const hz = positive(values, 'hz', 'a whole number of samples a second');
  if (hz === undefined) return PROFILE_HZ.default;
  if (!Number.isInteger(hz) || hz < PROFILE_HZ.min || hz > PROFILE_HZ.max) {
    throw new UsageError(`--hz must be between ${PROFILE_HZ.min} and ${PROFILE_HZ.max} samples a second, got '${String(values.hz)}'`);
  }
  return hz;
}

export function parseArgs(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') return { cmd: 'help' };
  if (cmd === '--version' || cmd === '-v') return { cmd: 'version' };
  switch (cmd) {
    case 'presets': {
      const { values, positionals, rest: after } = parseOptions(rest, { json: { type: 'boolean' } });
      const extra = [...positionals, ...(after ?? [])];
      if (extra.length) throw new UsageError(`presets takes no arguments, got '${extra[0]}'`);
      return { cmd: 'presets', json: values.json === true };
    }
    case 'run': {
      const { values, positionals, rest: programArgs } = parseOptions(rest, {
        json: { type: 'boolean' },
        py: { type: 'boolean' },
        log: { type: 'string' },
        interval: { type: 'string' },
        timeout: { type: 'string' },
        python: { type: 'string' },
        profile: { type: 'boolean' },
        hz: { type: 'string' },
        'shared-calls': { type: 'boolean' },
      });
      if (positionals.length === 0) throw new UsageError('run needs a preset id or a scenario file');
      if (positionals.length > 1) throw new UsageError(`run takes one scenario, got also '${positionals[1]}' (the program's own arguments go after --)`);
      const interval = positive(values, 'interval', 'a whole number of milliseconds');
      if (values.hz !== undefined && values.profile !== true) throw new UsageError('--hz sets the rate of --profile: add --profile');
      if (interval !== undefined && intervalProblem(interval) !== null) {
        throw new UsageError(`--${intervalProblem(interval)?.replace(/, got .*$/, '')}, got '${String(values.interval)}'`);
      }
      return {
        cmd: 'run',
        scenario: positionals[0],
        log: str(values.log),
        interval,
        timeout: positive(values, 'timeout', 'a positive number of seconds'),
        json: values.json === true,
        ...(values.python !== undefined ? { python: str(values.python) } : {}),
        ...(values.py === true ? { runtime: 'python' as const } : {}),
        ...(values.profile === true ? { profile: { hz: profileRate(values) } } : {}),
        args: programArgs ?? [],
        sharedCalls: values['shared-calls'] === true,
      };
    }
    case 'export': {
      const { values, positionals, rest: after } = parseOptions(rest, { format: { type: 'string' }, output: { type: 'string', short: 'o' } });
      // No program arguments here: after `--` come more files (one named `-x`, say).
      const files = [...positionals, ...(after ?? [])];
      if (files.length !== 1) throw new UsageError('export needs exactly one log file');
      const format = values.format;
      if (format !== 'csv' && format !== 'trace' && format !== 'speedscope') {
        throw new UsageError(format === undefined ? 'export needs --format csv, trace or speedscope' : `unknown format '${String(format)}' (csv, trace or speedscope)`);
      }
      return { cmd: 'export', log: files[0], format, out: str(values.output) };
    }
    case 'compare': {
      const { values, positionals, rest: after } = parseOptions(rest, { json: { type: 'boolean' } });
      const logs = [...positionals, ...(after ?? [])];
      if (logs.length !== 2) throw new UsageError(`compare needs two run logs, got ${logs.length}`);
      return { cmd: 'compare', a: logs[0], b: logs[1], json: values.json === true };
    }
    case 'ui':
      if (rest.length) throw new UsageError(`ui takes no arguments, got '${rest[0]}'`);
      return { cmd: 'ui' };
    case 'serve': {
      const { values, positionals, rest: after } = parseOptions(rest, { port: { type: 'string' } });
      const extra = [...positionals, ...(after ?? [])];
      if (extra.length) throw new UsageError(`serve takes no arguments, got '${extra[0]}'`);
      const raw = str(values.port);
      if (raw === undefined) return { cmd: 'serve' };
      const port = Number(raw);
      // 0 is "any free port", as servers conventionally read it.
      if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be a port number (0..65535, 0: any free port), got '${raw}'`);
      return { cmd: 'serve', port };
    }
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}
