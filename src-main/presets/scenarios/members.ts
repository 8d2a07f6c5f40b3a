// Seed 5: the members of a Process object. Unlike the seed, it starts two processes, stops one
// with terminate() and the other with kill(), and joins each before reading its exitcode, so the
// exit codes are always -15 and -9. (The seed reads exitcode without join(): it prints None, and
// its close() then fails because the child may still be running.)
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, interactive } from 'procscope';

export async function foo(x: number): Promise<void> {
  console.log(x);
  // Not in the seed: stay alive long enough to be signalled (the seed's foo returns at once).
  await sleep(60_000);
}

export default async function main(): Promise<void> {
  const p = new Process({ name: 'demo', target: foo, args: [1] });
  // Make it a daemon process (the default is false)
  p.daemon = true;
  // Start the child
  p.start();
  // The child's name
  console.log(p.name);
  // The child's pid
  console.log(p.pid);
  // Is the child alive?
  console.log(p.isAlive());
  // Not in the seed: give the child a second to start and print, so it is seen alive in the
  // timeline (the seed signals at once, before foo has even begun).
  await sleep(1000);
  // Stop the child with SIGTERM (a request a program may handle; by default Node exits)
  p.terminate();
  // terminate() only sends the signal: join() waits until the child has really exited
  await p.join();
  // The child's exit code: minus the signal number, as in Python
  console.log(p.exitcode); // => -15
  // Close the Process object and free its resources (allowed once the child has exited)
  p.close();

  const q = new Process({ name: 'demo2', target: foo, args: [2] });
  q.daemon = true;
  q.start();
  console.log(q.name);
  console.log(q.pid);
  console.log(q.isAlive());
  await sleep(1000);
  // Stop the child with SIGKILL (it cannot be handled: the OS ends the process at once)
  q.kill();
  await q.join();
  console.log(q.exitcode); // => -9
  q.close();

  // In procscope's window, your turn: a third Process object waits in the process table. Press
  // start, then try isAlive (the state column), join with a timeout, terminate or kill, and
  // close (before and after it has exited), and watch what each member answers.
  if (interactive()) {
    const r = new Process({ name: 'demo3', target: foo, args: [3] });
    console.log(`${r.name} is ready: use the buttons on its row; close it to end the run`);
    await r.waitClosed();
  }
}
