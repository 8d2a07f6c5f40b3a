// Run ids: the name of a run's log in the runs folder (`<id>.jsonl`), and the argument of the
// commands that open or export a past run. One pattern for whoever makes one and whoever checks one.

/** Letters, digits, `_`, `-` and `.`, at most 200, not starting with a dot (no hidden files, no `..`). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

export function isRunId(v: unknown): v is string {
  return typeof v === 'string' && RUN_ID_PATTERN.test(v);
}

/** Longest part of a run id taken from the program's name. */
const NAME_MAX = 60;

/**
 * `2025-01-02T03-04-05-678Z-flash-sale-a1b2c3`: sorts by time, names the program, never collides
 * (`random`: a few random hex digits). Always a valid run id, whatever the name holds.
 */
export function runIdFor(name: string, at: Date, random: string): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, NAME_MAX) || 'scenario';
  return `${stamp}-${safe}-${random.replace(/[^0-9a-f]/g, '').slice(0, 16)}`;
}
