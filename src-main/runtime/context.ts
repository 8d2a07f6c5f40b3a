// What one scenario process knows about itself: Python's `_current_process` and its counter.

import { ENV_T0 } from '../protocol.ts';

export interface SelfInfo {
  name: string;
  pid: number;
  ppid: number;
  daemon: boolean;
  /** Python's `_identity`: (1,) for the first child, (1, 2) for that child's second child. */
  identity: number[];
}

export const self: SelfInfo = {
  name: 'MainProcess',
  pid: process.pid,
  ppid: process.ppid,
  daemon: false,
  identity: [],
};

let counter = 0;

/** Python's `_process_counter`: one count per process, shared by Process and Pool workers. */
export function nextIdentity(): number[] {
  counter += 1;
  return [...self.identity, counter];
}

/** The scenario module's namespace: children find their targets here by export name. */
let scenarioExports: Record<string, unknown> | null = null;
let scenarioPath = '';

export function setScenario(path: string, ns: Record<string, unknown>): void {
  scenarioPath = path;
  scenarioExports = ns;
}

export function scenario(): { path: string; exports: Record<string, unknown> | null } {
  return { path: scenarioPath, exports: scenarioExports };
}

/** Finds the export name under which `value` is exported by the scenario module. */
export function exportNameOf(value: unknown): string | null {
  if (!scenarioExports) return null;
  for (const [key, v] of Object.entries(scenarioExports)) {
    if (v === value && key !== 'default') return key;
  }
  return null;
}

let idCounter = 0;

/**
 * Ids of shared objects: unique in the run without asking the broker (pid is unique). They start
 * with the kind, as the Python shim's do (`event-4242-3`).
 */
export function newObjectId(kind: 'queue' | 'lock' | 'semaphore' | 'condition' | 'event' | 'barrier' | 'dict' | 'list' | 'namespace' | 'value' | 'array'): string {
  idCounter += 1;
  return `${kind}-${process.pid}-${idCounter}`;
}

const t0 = Number(process.env[ENV_T0] ?? 0);

/** Run time (ms since the run's t = 0), by this process's clock, for events it reports in batches. */
export function runNow(): number {
  return Math.round((performance.timeOrigin + performance.now() - t0) * 1000) / 1000;
}
