// The presets: one per seed example (shared/seed-examples.md), each a TypeScript scenario that
// runs on procscope's runtime next to the Python original it mirrors. This module holds what the
// app says about them; the code itself lives in scenarios/ and python/, shipped as files and read
// on demand, so the Code view shows exactly what runs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PresetInfo } from '../api.ts';

/** A preset as catalogued: its text, plus where its two sources live (relative to presets/). */
export type PresetMeta = Omit<PresetInfo, 'source' | 'python'> & {
  scenarioFile: string;
  pythonFile: string;
};

function preset(
  id: string,
  seed: number,
  lesson: PresetMeta['lesson'],
  verdict: PresetMeta['verdict'],
  title: PresetMeta['title'],
  explanation: PresetMeta['explanation'],
): PresetMeta {
  return { id, seed, title, explanation, lesson, verdict, scenarioFile: `scenarios/${id}.ts`, pythonFile: `python/${id}.py` };
}

/** What the flash-sale buyers print (in both languages' versions): 抢购成功 succeeded, 抢购失败 failed. */
const SALE = { kind: 'stock', stock: 3, sold: '抢购成功', notSold: '抢购失败' } as const;

export const presets: readonly PresetMeta[] = [
  preset(
    'hello',
    1,
    'timeline',
    { kind: 'parent-waits', children: 1 },
    { en: 'Create a process', zh: '创建一个进程' },
    {
      en:
        "The main process prints its pid, starts one child that runs foo('bob'), and waits for it with join(). " +
        "The 'parent process id' the child prints is the main process's own pid: these are real OS processes, " +
        'and the process table shows the child with the main process as its parent (ppid). In the timeline, ' +
        "the main process's lane outlives the child's, because join() waits until the child has exited (exit code 0).",
      zh:
        "主进程先打印自己的 pid，再启动一个执行 foo('bob') 的子进程，并用 join() 等它结束。" +
        '子进程打印的“parent process id”正是主进程自己的 pid：它们是真正的操作系统进程，' +
        '进程表里子进程的父进程（ppid）就是主进程。在时间线上，主进程的泳道比子进程的长，' +
        '因为 join() 会一直等到子进程退出（退出码 0）。',
    },
  ),
  preset(
    'join-in-loop-wrong',
    2,
    'timeline',
    { kind: 'children', children: 5 },
    { en: 'join() inside the loop (wrong)', zh: '在循环里 join()（错误）' },
    {
      en:
        'Each pass of the loop starts a child and joins it at once, so the main process cannot start the next ' +
        'child until the previous one has exited. In the timeline, the five children never overlap: they run ' +
        'one after another, no faster than a plain loop, and the numbers always print 0 to 4 in order. ' +
        "Compare with 'join() after the loop'.",
      zh:
        '每一轮循环都是启动一个子进程后立刻 join()，所以上一个子进程退出之前，主进程没法启动下一个。' +
        '在时间线上，五个子进程从不重叠：它们一个接一个地运行，并不比普通的循环快，数字总是按 0 到 4 的顺序打印。' +
        '可以和“循环结束后再 join()”对比一下。',
    },
  ),
  preset(
    'join-in-loop',
    2,
    'timeline',
    { kind: 'children', children: 5 },
    { en: 'join() after the loop (right)', zh: '循环结束后再 join()（正确）' },
    {
      en:
        'The first loop only starts the five children; the second loop joins them. In the timeline, the ' +
        "children's lanes overlap: they run in parallel (with few cores they take turns on the CPU; a quick child " +
        'may be done before the last one starts). Nothing orders them, so the numbers may print in any order, and ' +
        'the main process ends only after the last join().',
      zh:
        '第一个循环只负责启动五个子进程，第二个循环再逐个 join()。在时间线上，子进程的泳道相互重叠：' +
        '它们在并行运行（CPU 核数少时会轮流使用 CPU；跑得快的子进程可能在最后一个启动前就已结束）。' +
        '没有任何机制规定它们的先后，所以数字的打印顺序不固定；' +
        '主进程要等最后一个 join() 返回才结束。',
    },
  ),
  preset(
    'subclass',
    3,
    'timeline',
    { kind: 'parent-waits', children: 1 },
    { en: 'Subclass Process', zh: '继承 Process 类' },
    {
      en:
        'Foo extends Process and overrides run(): start() runs run() in a new process instead of calling a target. ' +
        "The name set in the constructor, 'bob', is the name the app shows for the child. The main process never " +
        'calls join(), yet, as in Python, it waits for its non-daemon child before it exits: in the timeline, the ' +
        "main process's lane ends after the child's.",
      zh:
        'Foo 继承了 Process 并重写 run()：start() 会在新进程里执行 run()，而不是调用 target 函数。' +
        "构造函数里设置的名字 'bob' 就是应用里显示的子进程名字。主进程从没调用 join()，" +
        '但和 Python 一样，它在退出前仍会等待非守护子进程结束：在时间线上，主进程的泳道在子进程之后才结束。',
    },
  ),
  preset(
    'pool-map',
    4,
    'workers',
    { kind: 'pool', workers: 5 },
    { en: 'Process pool: Pool(5).map', zh: '进程池：Pool(5).map' },
    {
      en:
        'A pool starts five worker processes once and hands them the 100 calls of foo in chunks of 5 (the ' +
        'default chunk size here), instead of starting 100 processes. Only the five workers appear, alive for the ' +
        'whole map: SpawnPoolWorker-1 to 5 in the TypeScript version; Python on Linux forks them and names them ' +
        'ForkPoolWorker-N. The worker lanes count the chunks each worker took, and the output shows which worker ' +
        'printed each number: five consecutive numbers from one worker are one chunk. A worker that is ready first ' +
        'may run many chunks before the others even ask: in Python one worker often takes most of them and another ' +
        'none; the TypeScript pool keeps the last five chunks back until all five workers are waiting, so each ' +
        'takes at least one. When the with-block ends, the pool terminates its workers, and their lanes end together.',
      zh:
        '进程池一次性启动五个工作进程，把对 foo 的 100 次调用按每块 5 个（这里默认的分块大小）交给它们，' +
        '而不是启动 100 个进程。只会出现这五个工作进程，整个 map 期间它们一直存活：TypeScript 版本里叫 ' +
        'SpawnPoolWorker-1 到 5；Linux 上的 Python 用 fork 创建它们，名字是 ForkPoolWorker-N。' +
        '工作进程泳道上记着每个进程领到了几个分块；输出里能看到每个数字是哪个工作进程打印的：' +
        '同一个工作进程连续打印的五个数字就是一个分块。先就绪的工作进程可能在别的进程开口要任务之前就做完好几个分块：' +
        '在 Python 里常常是一个进程包揽大部分，有的一个也没分到；TypeScript 的进程池则把最后五块' +
        '留到五个工作进程都在等任务时才发出，所以每个进程至少能分到一块。with 块结束时，进程池会终止这些工作进程，它们的泳道同时结束。',
    },
  ),
  preset(
    'members',
    5,
    'timeline',
    { kind: 'exit-codes' },
    { en: 'Process object members', zh: '进程对象的成员' },
    {
      en:
        "The TypeScript version starts two daemon processes to show a Process object's members: name, pid, isAlive(). Each prints its argument and " +
        "would sleep for a minute, but after a second 'demo' is stopped with terminate() (SIGTERM) and 'demo2' " +
        'with kill() (SIGKILL); after join(), their exitcodes are -15 and -9, ' +
        'minus the signal number, as in Python, and close() frees each object. In the timeline, both lanes are cut ' +
        "short and end with those exit codes. The Python seed calls kill() and terminate() on its one process and reads " +
        'exitcode without join(), so it usually prints None, and its close() then raises ValueError because the child ' +
        'is still running: signals take effect asynchronously, and join() is what waits for them. The run ends in that ' +
        "error, and the child's lane ends with -9 once the kill lands. Sometimes the child has already finished by " +
        'then: is_alive() prints False, exitcode 0, and close() succeeds. ' +
        "Then it is your turn, with the TypeScript version in the window: a third Process object, 'demo3', waits in the process table, created " +
        'but not started. Press start, join (with or without a timeout), terminate, kill and close on its row, in any ' +
        'order, and see what each member answers: close() on a running process raises the same ValueError as in ' +
        'Python, join() returns None and the exit code shows -15 or -9. Closing it ends the run.',
      zh:
        'TypeScript 版本启动两个守护进程来演示 Process 对象的成员：name、pid、isAlive()。每个子进程打印自己的参数后本打算睡一分钟，' +
        "但一秒后 'demo' 就被 terminate()（SIGTERM）终止，'demo2' 被 kill()（SIGKILL）终止；" +
        'join() 之后，它们的 exitcode 分别是 -15 和 -9，即信号编号取负，' +
        '和 Python 一样，然后 close() 释放各自的对象。在时间线上，两条泳道都被提前截断，并以这两个退出码结束。' +
        'Python 原文对它唯一的子进程先后调用 kill() 和 terminate()，没有 join() 就读取 exitcode，所以通常打印的是 None，' +
        '随后的 close() 还会因为子进程仍在运行而抛出 ValueError：信号是异步生效的，等它生效要靠 join()。' +
        '这次运行就以这个错误结束，等 kill 生效后，子进程的泳道以 -9 结束。有时子进程在此之前就已经执行完了：' +
        'is_alive() 打印 False，exitcode 是 0，close() 也不会出错。' +
        "接下来轮到你，在窗口里运行 TypeScript 版本：进程表里有第三个 Process 对象 'demo3'，已创建但尚未启动。" +
        '在它那一行按下 start、join（可带超时）、terminate、kill 和 close，顺序随意，看看每个成员返回什么：' +
        '对运行中的进程调用 close() 会抛出和 Python 一样的 ValueError，join() 返回 None，退出码显示 -15 或 -9。' +
        '关闭它，这次运行就结束了。',
    },
  ),
  preset(
    'bounded-queue',
    6,
    'queues',
    { kind: 'queue', values: ['1', '2', '3'] },
    { en: 'A bounded queue: Queue(3)', zh: '有界队列：Queue(3)' },
    {
      en:
        'One process puts 1, 2 and 3 into a queue that holds at most 3 items, checks full() and qsize(), gets the ' +
        'items back first in, first out, and checks empty(). In the queue chart, the depth climbs to the maximum of ' +
        '3 and falls back to 0. A fourth put() would wait until another process got an item. JavaScript prints ' +
        'true and false where Python prints True and False.',
      zh:
        '只有一个进程：往最多容纳 3 个元素的队列里放入 1、2、3，检查 full() 和 qsize()，' +
        '再按先进先出的顺序取回，最后检查 empty()。在队列图上，深度先升到上限 3，再降回 0。' +
        '如果再 put() 第四个元素，就要一直等到别的进程取走一个。JavaScript 打印 true 和 false，Python 打印 True 和 False。',
    },
  ),
  preset(
    'producer-consumer',
    7,
    'queues',
    // As the Python original writes them; only 1.1 is ever left, spelled alike in both languages.
    { kind: 'queue', values: ['1', "'0'", 'False', '1.1'] },
    { en: 'Producer and consumer over a Queue', zh: '用 Queue 实现生产者与消费者' },
    {
      en:
        "The main process puts 1, '0', false (Python's False) and 1.1 into a queue; the child gets items and prints them while " +
        "they are truthy. '0' is a non-empty string, truthy in JavaScript as in Python, so it prints; false stops " +
        'the consumer, so 1.1 is never taken. In the queue chart, the depth rises as the main process puts and ' +
        "falls as the child gets, and it stays at 1 at the end: that is the 1.1 left behind. The child's lane ends " +
        "at false, and then the main process's join() returns.",
      zh:
        "主进程往队列里放入 1、'0'、false（Python 里是 False）和 1.1；子进程不断取出元素，只要是真值就打印。" +
        "'0' 是非空字符串，在 JavaScript 和 Python 里都是真值，所以会被打印；false 让消费者停下，1.1 永远不会被取走。" +
        '在队列图上，主进程放入时深度上升，子进程取出时深度下降，最后停在 1：那就是留在队列里的 1.1。' +
        '子进程的泳道在取到 false 时结束，随后主进程的 join() 返回。',
    },
  ),
  preset(
    'flash-sale',
    8,
    'locks',
    SALE,
    { en: 'Flash sale with a Lock', zh: '用锁实现抢购' },
    {
      en:
        'Ten buyer processes race for a stock of 3 kept in a file named product. Each buyer acquires the lock, ' +
        'reads the stock, takes one if any is left, writes the stock back and releases the lock, so no other buyer ' +
        'can slip in between the read and the write. The lock lane shows one holder at a time and the others ' +
        'queued as waiters; exactly 3 buyers succeed, 7 fail, and the file ends at 0. Which buyers win depends on ' +
        'who gets the lock first, not on their numbers.',
      zh:
        '十个买家进程抢购存放在文件 product 里的 3 件库存。每个买家先获取锁，读出库存，有货就拿走一件，' +
        '把库存写回文件，再释放锁，这样在读和写之间，其他买家无法插进来。锁泳道上同一时刻只有一个持有者，' +
        '其余的在等待队列里排队；恰好 3 个买家抢购成功，7 个失败，文件最后是 0。谁能抢到取决于谁先拿到锁，与编号无关。',
    },
  ),
  preset(
    'flash-sale-unlocked',
    8,
    // There is no lock to draw: the race shows as the buyers' overlapping lanes.
    'timeline',
    SALE,
    { en: 'Flash sale without a lock (oversells)', zh: '不加锁的抢购（超卖）' },
    {
      en:
        'The same flash sale without the lock. Each buyer reads the stock, then writes it back one less; ' +
        'meanwhile other buyers may read the same old stock, and all believe some is left. The TypeScript version ' +
        'pauses 200 ms between read and write, so the race shows on every run: more than 3 buyers succeed (often ' +
        'all ten), and the file usually does not even end at 0, because each write overwrites the others (lost ' +
        'updates). The Python original has the same race in a much narrower window: a run may well sell exactly 3, ' +
        'by luck, since nothing prevents more. In either language a buyer may read the file while another is ' +
        'rewriting it, find it empty and fail with ValueError (exit code 1); in Python that is often the only sign ' +
        "of the race. There is no lock lane; in the timeline the buyers' lanes overlap. " +
        "Compare with 'Flash sale with a Lock'.",
      zh:
        '同样的抢购，只是去掉了锁。每个买家读出库存，再把减一后的库存写回文件；在此期间，其他买家可能读到同一个旧库存，' +
        '都以为还有货。TypeScript 版本在读和写之间暂停 200 毫秒，让竞争每次都能出现：抢购成功的不止 3 个' +
        '（常常十个全部成功），文件最后往往连 0 都不是，因为每次写入都会覆盖别人的结果（更新丢失）。' +
        'Python 原文存在同样的竞争，只是时间窗口窄得多：某次运行很可能恰好卖出 3 件，但那只是运气，没有任何机制阻止多卖。' +
        '无论哪种语言，某个买家都可能在别人重写文件的瞬间读到空文件，因 ValueError 而失败（退出码 1）；' +
        '在 Python 里，这往往是竞争留下的唯一痕迹。这里没有锁泳道，在时间线上可以看到各个买家的泳道相互重叠。' +
        '可以和“用锁实现抢购”对比一下。',
    },
  ),
  preset(
    'parking-lot',
    9,
    'locks',
    { kind: 'holders', capacity: 3, clients: 8 },
    { en: 'A parking lot: Semaphore(3)', zh: '停车场：Semaphore(3)' },
    {
      en:
        'Eight car processes share a parking lot with 3 spaces, a Semaphore(3). Each car acquires it to park ' +
        '(`with lot:`) and releases it when it leaves. A Lock admits one holder; a semaphore admits as many as its ' +
        'value: the first 3 cars park at once, the other 5 wait until a car leaves, and each leaving car lets ' +
        "exactly one waiting car in. In the semaphore's lane every car has its own row: hatched while it waits for a " +
        'space, solid while it is parked. Never more than 3 rows are solid at one moment, and every car parks in ' +
        'the end. Which cars wait depends on who asks first, not on their numbers.',
      zh:
        '八个汽车进程共用一个有 3 个车位的停车场，也就是一个 Semaphore(3)。每辆车先获取它才能停进去（`with lot:`），' +
        '离开时再释放。锁只允许一个持有者；信号量允许的持有者数等于它的初值：前 3 辆车同时停进去，' +
        '其余 5 辆一直等到有车离开，而每离开一辆车，恰好放进一辆正在等的车。在信号量的泳道里每辆车都有自己的一行：' +
        '等车位时是斜线，停着时是实心。任何时刻实心的行都不超过 3 行，最后每辆车都停进去了。' +
        '哪些车需要等待取决于谁先来，与编号无关。',
    },
  ),
  preset(
    'starting-gun',
    9,
    'locks',
    { kind: 'released', waiters: 5 },
    { en: 'A starting gun: Event', zh: '发令枪：Event' },
    {
      en:
        "Five runner processes line up: each tells the starter it is ready (a Queue), then waits on an Event, the " +
        "starting gun. When all five are on the line the starter pauses for 'on your marks', prints BANG and calls " +
        "set(): that one call lets every waiting runner go at the same instant. In the Event's lane each runner's " +
        'row is hatched while it waits, and all five waits end together, at the set(); then each prints that it is ' +
        'off. A wait() that starts after set() does not wait at all: the event stays set until clear().',
      zh:
        '五个跑步进程排好队：每个先通过一个 Queue 告诉发令员自己准备好了，再在一个 Event（发令枪）上等待。' +
        '五个都就位后，发令员停顿一下（“各就各位”），打印 BANG 并调用 set()：这一次调用就在同一瞬间放行了所有正在等待的选手。' +
        '在 Event 的泳道里，每个选手等待时那一行是斜线，五段等待在 set() 那一刻同时结束；随后每个选手打印自己起跑了。' +
        '在 set() 之后才调用的 wait() 根本不用等：事件会一直保持已设置，直到 clear()。',
    },
  ),
];

export function presetById(id: string): PresetMeta | undefined {
  return presets.find((p) => p.id === id);
}

/** Reads a preset's two sources from `presetsDir` (the folder holding scenarios/ and python/). */
export function loadPreset(id: string, presetsDir: string): PresetInfo {
  const meta = presetById(id);
  if (!meta) throw new Error(`unknown preset '${id}' (known: ${presets.map((p) => p.id).join(', ')})`);
  const { scenarioFile, pythonFile, ...info } = meta;
  return {
    ...info,
    source: readFileSync(join(presetsDir, scenarioFile), 'utf8'),
    python: readFileSync(join(presetsDir, pythonFile), 'utf8'),
  };
}

/** Every preset with its sources, in catalogue order (what `presets.list` answers). */
export function loadPresets(presetsDir: string): PresetInfo[] {
  return presets.map((p) => loadPreset(p.id, presetsDir));
}
