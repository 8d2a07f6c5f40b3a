// Seed 3: subclass Process and override run(); start() runs run() in a new process.
import { Process, currentProcess } from 'procscope';

// Exported, like a target function: the child finds the class by its export name.
export class Foo extends Process {
  constructor(name: string) {
    super(); // like Python's super().__init__(): always call it first
    this.name = name;
  }

  override run(): void {
    console.log(`name: ${this.name}`);
    console.log(`sub process: ${currentProcess().pid}`); // os.getpid()
  }
}

export default async function main(): Promise<void> {
  console.log(`parent process: ${currentProcess().pid}`);
  const p = new Foo('bob');
  p.start();
  // No join(), as in the seed: like Python, a process that returns from main still waits for
  // its non-daemon children before it exits.
}
// Output =>
// parent process: 48424
// name: bob
// sub process: 38724
