// What the engine refuses, as one line fit to show as it is (every shell shows it so).

/** A command of the contract refused by the backend. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** A run or a control refused by the session (a bad start option, a control on a pid not of the run). */
export class ControlError extends Error {
  override name = 'ControlError';
}
