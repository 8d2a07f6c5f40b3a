// Python's convention for a process ended by a signal: exit code -N. Only the signals whose
// numbers POSIX systems share (Linux and macOS agree on these), so a name is never a guess.

const NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

/** `SIGKILL` for exit code -9; null for a normal exit code or a signal without a shared number. */
export function signalOfExitcode(exitcode: number): string | null {
  return exitcode < 0 ? (NAMES[-exitcode] ?? null) : null;
}
