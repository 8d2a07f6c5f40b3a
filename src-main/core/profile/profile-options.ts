// The one switch of the profiler: a run is profiled at `hz` samples a second, or not at all.

import { PROFILE_HZ } from '../../api.ts';

/** The sampling rate a run's `profile` option asks for, or null when it is off; throws (one line) when out of range. */
export function profileHz(profile: { hz?: number } | undefined): number | null {
  if (profile === undefined) return null;
  const hz = profile.hz ?? PROFILE_HZ.default;
  if (!Number.isInteger(hz) || hz < PROFILE_HZ.min || hz > PROFILE_HZ.max) {
    throw new RangeError(`profile rate must be a whole number of samples a second from ${PROFILE_HZ.min} to ${PROFILE_HZ.max}, got ${hz}`);
  }
  return hz;
}
