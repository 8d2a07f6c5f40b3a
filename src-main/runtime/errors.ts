// Python's exception names for the runtime's errors, so messages read as Python's docs say.
// Messages are exact copies of CPython 3.11's where Python has one.

/** Raised by a non-blocking or timed-out `Queue.get` (Python: `queue.Empty`). */
export class Empty extends Error {
  override name = 'Empty';
}

/** Raised by a non-blocking or timed-out `Queue.put` on a full bounded queue (`queue.Full`). */
export class Full extends Error {
  override name = 'Full';
}

/** Python raises AssertionError for misuse of a Process (start twice, join before start…). */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Python raises ValueError for closed processes and over-released locks. */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** A target or Process subclass that a child cannot find by name (Python: PicklingError). */
export class PicklingError extends Error {
  override name = 'PicklingError';
}

/** The monitor went away: nothing that needs the broker can work any more. */
export class BrokerGoneError extends Error {
  override name = 'BrokerGoneError';
}
