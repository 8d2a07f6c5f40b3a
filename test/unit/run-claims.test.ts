// RunClaims where /proc cannot be read (macOS, Windows): the checks that need it step aside, so a
// genuine run is not refused there, and a control still reaches a live process, and only that.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunClaims, UNKNOWN_PEER } from '../../src-main/core/run-claims.ts';

const host = { root: () => 1, isSame: () => false, parentOf: () => undefined, listedRunning: () => false };

describe('RunClaims without /proc', () => {
  it("believes a hello and a child's announcement it cannot check, and still takes exits only from the listed parent", () => {
    const claims = new RunClaims({ ...host, parentOf: (pid: number) => (pid === 3 ? 2 : undefined) }, false);
    expect(claims.hello(UNKNOWN_PEER, 3, 2)).toBeNull();
    expect(claims.spawned(2, 3)).toBeNull();
    expect(claims.exitedEarly(3)).toBeNull();
    expect(claims.exited(2, 3)).toBeNull();
    expect(claims.exited(4, 3)).toBe('pid 3 is not a child of pid 4');
  });

  it('signals a live process, and nothing once it is gone', async () => {
    const sleep = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = sleep.pid as number;
    const ended = once(sleep, 'exit');
    expect(new RunClaims(host, false).signal(pid, 'SIGTERM')).toBe(true);
    const [, signal] = await ended;
    expect(signal).toBe('SIGTERM');
    expect(new RunClaims(host, false).signal(pid, 'SIGTERM')).toBe(false);
  });

  it('with /proc, a process the run does not list as the same is not signalled', async () => {
    const sleep = spawn('sleep', ['300'], { stdio: 'ignore' });
    const ended = once(sleep, 'exit');
    expect(new RunClaims(host, true).signal(sleep.pid as number, 'SIGKILL')).toBe(false);
    // Ours comes second: a SIGKILL sent before it would be what ended the process.
    sleep.kill('SIGTERM');
    const [, signal] = await ended;
    expect(signal).toBe('SIGTERM');
  });
});

describe('RunClaims with /proc: an orphan of the run', () => {
  /**
   * A main process of its own session (started detached, as a run's main is) that forks a child
   * and exits at once; the child, gone to init, connects to `sock` and waits. Resolves main's pid
   * and the child's connection as the broker would accept it.
   */
  async function orphanConnects(sock: string, detached: boolean): Promise<{ main: number; child: number; socket: net.Socket; server: net.Server }> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    const accepted = once(server, 'connection');
    const script = [
      'import os, socket, sys, time',
      'main = os.getpid()',
      'if os.fork() == 0:',
      '    while os.getppid() == main: time.sleep(0.01)  # main has exited: the child is an orphan',
      '    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"%d\\n" % os.getpid())',
      '    time.sleep(300)',
      'os._exit(0)',
    ].join('\n');
    const main = spawn('python3', ['-c', script, sock], { stdio: 'ignore', detached });
    const [socket] = (await accepted) as [net.Socket];
    const [line] = (await once(socket, 'data')) as [Buffer];
    return { main: main.pid as number, child: Number(line.toString().trim()), socket, server };
  }

  it("takes the hello of a child whose parent died before anything of it was read: it is in the run's session", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-claims-'));
    const { main, child, socket, server } = await orphanConnects(path.join(dir, 's'), true);
    try {
      const claims = new RunClaims({ root: () => main, isSame: () => false, parentOf: () => undefined, listedRunning: () => false }, true);
      const peer = claims.peerOf(socket);
      if (peer.pid === null) return; // no peer credentials here (koffi missing): nothing to check
      expect(peer.pid).toBe(child);
      expect(claims.hello(peer, child, main)).toBeNull();
      // Its parent's report, read after the parent died, is taken too.
      expect(claims.spawned(main, child)).toBeNull();
      // Another run's main (any other session) gets no such pass.
      const other = new RunClaims({ root: () => process.pid, isSame: () => false, parentOf: () => undefined, listedRunning: () => false }, true);
      expect(other.hello(peer, child, process.pid)).toBe(`pid ${child} does not descend from this run`);
    } finally {
      process.kill(child, 'SIGKILL');
      socket.destroy();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RunClaims with /proc: processes between a child and the run', () => {
  it('lists the shell between a Python and the run, farthest first; nothing once the parent is listed', async () => {
    // This test process stands for the run's main: sh, then sleep under it.
    const sh = spawn('sh', ['-c', 'sleep 300; exit 3'], { stdio: 'ignore' });
    const shPid = sh.pid as number;
    try {
      let sleepPid = 0;
      // sh starts its sleep a moment later: looked for in /proc, not waited for by the clock.
      for (let i = 0; i < 1000 && !sleepPid; i++) {
        sleepPid = Number(fs.readFileSync(`/proc/${shPid}/task/${shPid}/children`, 'utf8').trim().split(' ')[0] || 0);
        if (!sleepPid) await new Promise((r) => setTimeout(r, 10));
      }
      expect(sleepPid, 'sh started its sleep').toBeGreaterThan(0);
      const listed = new Set<number>();
      const claims = new RunClaims({ root: () => process.pid, isSame: () => false, parentOf: () => undefined, listedRunning: (pid) => listed.has(pid) }, true);
      expect(claims.between(UNKNOWN_PEER, sleepPid, shPid)).toEqual([{ pid: shPid, ppid: process.pid, name: 'sh -c sleep 300; exit 3' }]);
      expect(claims.between(UNKNOWN_PEER, sleepPid, 12345), 'a hello that names another parent gets none').toEqual([]);
      listed.add(shPid);
      expect(claims.between(UNKNOWN_PEER, sleepPid, shPid)).toEqual([]);
      // A reaped child's exit the run never heard of is nothing to it; a listed one is.
      expect(claims.unheardOf(sleepPid)).toBe(true);
      expect(claims.unheardOf(shPid)).toBe(false);
    } finally {
      sh.kill('SIGKILL');
    }
  });
});
