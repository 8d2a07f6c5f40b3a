// Gets served from a lease and acquires of a lent lock resolve in microtasks only: a loop of them
// never lets this process's event loop turn, so its outgoing batch, its prints, and a recall from
// the broker (another process waiting for these very items, or this lock) would wait for the whole
// loop. Both let it turn now and then; one clock of when it last did serves both.

let turnedAt = 0;

/** The event loop just turned (an answer from the broker arrived). */
export function loopTurned(): void {
  turnedAt = performance.now();
}

/** ms since the event loop last turned, as far as the runtime can tell. */
export function sinceLoopTurned(): number {
  return performance.now() - turnedAt;
}

/** Lets the event loop turn once, I/O included. */
export async function turnEventLoop(): Promise<void> {
  // Two immediates: the first may run in the check phase of the current turn, before any I/O poll.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  loopTurned();
}
