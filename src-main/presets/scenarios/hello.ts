// Seed 1: start one child process with a target function and its arguments, then wait for it.
import { Process, currentProcess } from 'procscope';

// The child runs `foo`, so it must be a named export: a child starts fresh and finds its target
// by export name, the way Python's pickle finds a function by reference.
export function foo(name: string): void {
  console.log(`name: ${name}`);
  // currentProcess().ppid / .pid are Python's os.getppid() / os.getpid().
  console.log(`parent process id: ${currentProcess().ppid}`);
  console.log(`sub process id: ${currentProcess().pid}`);
}

// Python's `if __name__ == '__main__':` body. It runs in the main process only.
export default async function main(): Promise<void> {
  console.log(`parent process id：${currentProcess().pid}`); // '：' is a full-width colon, as in the seed
  const p = new Process({ target: foo, args: ['bob'] });
  p.start();
  await p.join(); // join() waits without blocking Node's event loop, hence the await
}
// Output =>
// parent process id：18676
// name: bob
// parent process id: 18676
// sub process id: 9856
