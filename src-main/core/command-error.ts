// A command the engine refuses: one line, fit to show as it is (every shell shows it so).

export class CommandError extends Error {
  override name = 'CommandError';
}
