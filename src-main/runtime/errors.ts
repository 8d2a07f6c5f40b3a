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

/** A Barrier that is broken (aborted, reset, or a wait timed out) refuses its waiters (`threading.BrokenBarrierError`). */
export class BrokenBarrierError extends Error {
  override name = 'BrokenBarrierError';
}

/** A key a manager's dict does not hold. */
export class KeyError extends Error {
  override name = 'KeyError';
}

/** An index past a manager's list or Array. */
export class IndexError extends Error {
  override name = 'IndexError';
}

/** A name a manager's Namespace does not hold. */
export class AttributeError extends Error {
  override name = 'AttributeError';
}

/** Python's OSError: a semaphore with a negative initial value cannot be made (`[Errno 22] Invalid argument`). */
export class OSError extends Error {
  override name = 'OSError';
}

/** A target or Process subclass that a child cannot find by name (Python: PicklingError). */
export class PicklingError extends Error {
  override name = 'PicklingError';
}

/** The monitor went away: nothing that needs the broker can work any more. */
export class BrokerGoneError extends Error {
  override name = 'BrokerGoneError';
}
