// Exit codes as Python's multiprocessing reports them: 0 on return, n for exit(n), 1 for an
// uncaught error, -N when killed by signal N; and Python's names for the negative ones.

/** Signal numbers by name, as the platform numbers them (Node's `os.constants.signals`). */
export type SignalTable = Readonly<Partial<Record<string, number>>>;

/**
 * The signals every POSIX system numbers alike (Linux and macOS agree on these), so a name is
 * never a guess: enough to name an exit code where the platform's own table is not at hand (a
 * browser showing a log made elsewhere, a verdict read from a log).
 */
export const PORTABLE_SIGNALS: SignalTable = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/**
 * Python's exitcode of a process that ended with `code`, or was killed by `signal` (a name, as
 * Node's child 'exit' event gives it). A signal the table does not know counts as an error (1).
 */
export function exitcodeOf(code: number | null, signal: string | null, signals: SignalTable = PORTABLE_SIGNALS): number {
  if (code !== null) return code;
  const n = signal ? signals[signal] : undefined;
  return n ? -n : 1;
}

/** The signal that `exitcode` says killed the process (`SIGKILL` for -9), or null for a normal exit code or an unknown signal. */
export function signalOfExitcode(exitcode: number | null | undefined, signals: SignalTable = PORTABLE_SIGNALS): string | null {
  if (exitcode === null || exitcode === undefined || exitcode >= 0) return null;
  for (const [name, n] of Object.entries(signals)) if (n === -exitcode) return name;
  return null;
}

/** Python's `_exitcode_to_name`: `-SIGTERM` for -15, the number itself otherwise. */
export function exitcodeName(exitcode: number, signals: SignalTable = PORTABLE_SIGNALS): string {
  const name = signalOfExitcode(exitcode, signals);
  return name ? `-${name}` : String(exitcode);
}
