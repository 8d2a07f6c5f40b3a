// The controls of a run: what the window (or a test) may do to its processes. A Process object's
// members are called in its owner (the real parent), so results are Python's own; the main
// process, or one whose parent is gone, can only be signalled or waited for from here.

import type { ControlResult, JoinResult, ProcessInfo, ProcessTarget, UnstampedEvent } from '../api.ts';
import type { ControlOp } from '../protocol.ts';
import type { Broker } from './broker/server.ts';
import { isAlive } from './process-group.ts';
import type { ProcessTable } from './process-table.ts';
import { ControlError } from './command-error.ts';

export interface ControlsHost {
  table: ProcessTable;
  broker: Broker;
  emit(e: UnstampedEvent): void;
  rootPid(): number;
  /** The run is ending: no control any more. */
  ended(): boolean;
  /** Signals `pid` if it is still the listed process and the run's (run-claims.ts); false if not sent. */
  signal(pid: number, sig: NodeJS.Signals): boolean;
}

export class RunControls {
  constructor(private readonly h: ControlsHost) {}

  /** Waits for a process of the run to exit, at most `timeout` seconds. */
  async join(pid: number, timeout?: number): Promise<JoinResult> {
    this.own(pid);
    const result = await this.h.table.waitExit(pid, timeout);
    this.h.emit({ type: 'control', action: 'join', pid, ok: true, result: result.exited ? `exitcode ${result.exitcode}` : 'timed out, still running' });
    return result;
  }

  async control(action: ControlOp, target: ProcessTarget, timeout?: number): Promise<ControlResult> {
    const { table, broker } = this.h;
    const row = 'handle' in target ? table.row(target.handle) : table.get(target.pid);
    if (!row) throw new ControlError(`${'handle' in target ? `process object ${target.handle}` : `pid ${target.pid}`} is not part of this run`);
    if (this.h.ended()) throw new ControlError('the run has ended');
    let result: ControlResult;
    const signals = action === 'terminate' || action === 'kill';
    if (signals && row.pid !== null && row.state === 'running' && isAlive(row.pid) && !table.isSame(row.pid)) {
      // Its pid is another process's now (the listed one ended unseen): its parent would signal
      // that one (Python's Popen sends to the pid it knows), so nobody is asked to.
      result = { ok: false, text: notSent(row.pid), exitcode: row.exitcode, alive: false };
    } else if (row.handle && broker.isConnected(row.ppid)) {
      result = await broker.control(row.ppid, action, row.handle, timeout ?? null);
    } else if (row.pid !== null && signals) {
      const alive = row.state === 'running' && this.h.signal(row.pid, action === 'terminate' ? 'SIGTERM' : 'SIGKILL');
      result = { ok: true, text: 'None', exitcode: row.exitcode, alive };
    } else if (row.pid !== null && action === 'join') {
      const j = await table.waitExit(row.pid, timeout);
      result = { ok: true, text: 'None', exitcode: j.exitcode, alive: !j.exited };
    } else {
      result = {
        ok: false,
        text: row.pid === this.h.rootPid() ? `the main process cannot ${action}: it is not a Process object` : `nobody can ${action} it: its parent has exited`,
        exitcode: row.exitcode,
        alive: row.state === 'running',
      };
    }
    this.h.emit({ type: 'control', action, ...(row.pid !== null ? { pid: row.pid } : {}), ...(row.handle ? { handle: row.handle } : {}), ok: result.ok, result: result.text });
    return result;
  }

  signal(pid: number, sig: NodeJS.Signals, action: 'terminate' | 'kill'): void {
    const p = this.own(pid);
    // An exited pid may already belong to someone else: only the process listed is signalled.
    if (p.state !== 'running' || !this.h.signal(pid, sig)) {
      const result = p.state === 'running' && isAlive(pid) ? notSent(pid) : 'already exited';
      this.h.emit({ type: 'control', action, pid, ok: false, result });
      return;
    }
    this.h.emit({ type: 'control', action, pid, ok: true, result: `sent ${sig}` });
  }

  private own(pid: number): ProcessInfo {
    const p = this.h.table.get(pid);
    if (!p) throw new ControlError(`pid ${pid} is not a process of this run`);
    return p;
  }
}

const notSent = (pid: number): string => `not sent: pid ${pid} is no longer the process of this run`;
