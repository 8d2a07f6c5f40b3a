// A preset's outcome in words, read from its run log: "3 sold of 3 in stock…", "children ran one
// after another…". The lessons are generic (a stock raced for, children in series or not, a
// queue's leftovers, a pool's share of tasks, how children ended); each preset picks one and
// gives its parameters (catalog.ts). Fed event by event, as a log is read or a run streams in,
// it keeps only counters and per-process facts, so it costs the same per event at any length.
// Both runtimes write the same events, so one reading serves a preset's TypeScript twin and its
// Python original alike.

import type { EndEvent, Lang, LocalizedText, Pid, RunEvent, VerdictSpec } from '../api.ts';
import { formatDuration } from './duration-text.ts';
import { signalOfExitcode } from './exitcode.ts';

export type { LessonView, VerdictSpec } from '../api.ts';

export interface Verdict {
  /** good: the healthy outcome; bad: the outcome shows the problem; neutral: neither, or no verdict. */
  tone: 'good' | 'bad' | 'neutral';
  text: LocalizedText;
}

interface Proc {
  pid: Pid;
  ppid: Pid;
  name: string;
  /** ms since run start: its `process` event, and its `exit` event (null while running). */
  start: number;
  end: number | null;
  exitcode: number | null;
}

interface QueueFacts {
  maxsize: number;
  peak: number;
  puts: number;
  gets: number;
  depth: number;
}

const both = (en: string, zh: string): LocalizedText => ({ en, zh });

/** `1 item` / `2 items`: English counts its nouns, Chinese does not. */
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export class VerdictReader {
  private readonly spec: VerdictSpec;
  private root: Pid | null = null;
  private readonly procs = new Map<Pid, Proc>();
  private end: EndEvent | null = null;
  // stock
  private sold = 0;
  private notSold = 0;
  private readonly buyers = new Set<Pid>();
  private acquisitions = 0;
  private readonly holders = new Map<string, Pid | null>();
  private twoHolders = false;
  // queue: the first one the program created
  private queueId: string | null = null;
  private queue: QueueFacts | null = null;
  // holders: the first semaphore
  private semId: string | null = null;
  private semMost = 0;
  private semAcquired = 0;
  private readonly semWaited = new Set<Pid>();
  // released: the first Event
  private eventId: string | null = null;
  private readonly eventWaited = new Set<Pid>();
  private eventReleased = 0;
  private eventSets = 0;
  // pool
  private readonly tasks = new Map<Pid, { done: number; failed: number }>();

  constructor(spec: VerdictSpec) {
    this.spec = spec;
  }

  /** One event of the run, in log order. */
  add(e: RunEvent): void {
    switch (e.type) {
      case 'process':
        if (this.root === null) this.root = e.pid;
        this.procs.set(e.pid, { pid: e.pid, ppid: e.ppid, name: e.name, start: e.t, end: null, exitcode: null });
        break;
      case 'exit': {
        const p = this.procs.get(e.pid);
        if (p) {
          p.end = e.t;
          p.exitcode = e.exitcode;
        }
        break;
      }
      case 'end':
        this.end = e;
        break;
      case 'output':
        if (this.spec.kind === 'stock' && e.stream === 'stdout') {
          // A line names the outcome of one attempt: the text the preset's buyers print.
          if (e.text.includes(this.spec.sold)) {
            this.sold += 1;
            this.buyers.add(e.pid);
          } else if (e.text.includes(this.spec.notSold)) {
            this.notSold += 1;
            this.buyers.add(e.pid);
          }
        }
        break;
      case 'lock': {
        if (e.op === 'acquire') {
          this.acquisitions += 1;
          // The holder before this acquire, as the previous event of this lock left it.
          const before = this.holders.get(e.lock) ?? null;
          if (before !== null && before !== e.pid) this.twoHolders = true;
        }
        this.holders.set(e.lock, e.holder);
        if (this.semId === null && e.op === 'create' && e.kind !== undefined) this.semId = e.lock;
        if (e.lock === this.semId) {
          this.semMost = Math.max(this.semMost, new Set(e.holders ?? []).size);
          if (e.op === 'acquire') this.semAcquired += 1;
          if (e.op === 'request' && e.waiters.includes(e.pid)) this.semWaited.add(e.pid);
        }
        break;
      }
      case 'sync':
        if (this.eventId === null && e.kind === 'event') this.eventId = e.sync;
        if (e.sync === this.eventId) {
          if (e.op === 'wait') this.eventWaited.add(e.pid);
          if (e.op === 'set') {
            this.eventSets += 1;
            this.eventReleased = Math.max(this.eventReleased, e.released?.length ?? 0);
          }
        }
        break;
      case 'queue':
        if (this.queueId === null) {
          this.queueId = e.queue;
          this.queue = { maxsize: e.maxsize, peak: 0, puts: 0, gets: 0, depth: 0 };
        }
        if (e.queue === this.queueId && this.queue) {
          const q = this.queue;
          if (e.op === 'put') q.puts += 1;
          else if (e.op === 'get') q.gets += 1;
          q.depth = e.depth;
          q.peak = Math.max(q.peak, e.depth);
        }
        break;
      case 'task':
        this.tasks.set(e.pid, { done: e.done, failed: e.failed });
        break;
      default:
        break;
    }
  }

  /** The verdict once the run has ended; null before, or when the log holds too little for it. */
  result(): Verdict | null {
    const end = this.end;
    if (!end) return null;
    const cut = this.cutShort(end);
    if (cut) return cut;
    switch (this.spec.kind) {
      case 'parent-waits':
        return this.parentWaits(this.spec.children);
      case 'children':
        return this.seriesOrOverlap(this.spec.children);
      case 'exit-codes':
        return this.exitCodes(end);
      case 'pool':
        return this.pool(this.spec.workers);
      case 'queue':
        return this.queueLeft(this.spec.values);
      case 'stock':
        return this.stock(this.spec.stock);
      case 'holders':
        return this.semaphoreHolders(this.spec.capacity, this.spec.clients);
      case 'released':
        return this.releasedAtOnce(this.spec.waiters);
    }
  }

  /** A run that did not run to its end teaches nothing: say so instead of claiming a lesson. */
  private cutShort(end: EndEvent): Verdict | null {
    const after = (lang: Lang) => formatDuration(end.t, lang);
    if (end.reason === 'stopped') {
      return {
        tone: 'neutral',
        text: both(`stopped after ${after('en')}, before the program ended: no verdict`, `运行 ${after('zh')}后被停止，程序没有跑完：没有结论`),
      };
    }
    if (end.reason === 'timeout') {
      return {
        tone: 'neutral',
        text: both(`stopped by the time limit after ${after('en')}: no verdict`, `运行到时间上限（${after('zh')}）被停止：没有结论`),
      };
    }
    // How children end is the lesson of exit-codes, main's own failure included (Python's
    // members seed raises in close()); for every other lesson a failed main means no verdict.
    if (this.spec.kind === 'exit-codes' && this.kids().length > 0) return null;
    if (end.reason === 'error') {
      const why = end.error ?? `main exited with code ${end.exitcode ?? '?'}`;
      return { tone: 'bad', text: both(`the run failed: ${why}`, `运行失败：${why}`) };
    }
    if (end.exitcode !== 0) {
      return {
        tone: 'bad',
        text: both(`main ${exitWords(end.exitcode, 'en')}: no verdict`, `主进程${exitWords(end.exitcode, 'zh')}：没有结论`),
      };
    }
    return null;
  }

  /** The processes main started itself, in start order. */
  private kids(): Proc[] {
    if (this.root === null) return [];
    return [...this.procs.values()].filter((p) => p.ppid === this.root);
  }

  private fewer(seen: number, expected: number): Verdict | null {
    if (seen >= expected) return null;
    return {
      tone: 'neutral',
      text: both(`only ${seen} of the ${expected} children expected ran: no verdict`, `预期 ${expected} 个子进程，只运行了 ${seen} 个：没有结论`),
    };
  }

  private parentWaits(expected: number): Verdict | null {
    const kids = this.kids();
    const main = this.root === null ? undefined : this.procs.get(this.root);
    if (kids.length === 0 || !main) return null;
    const fewer = this.fewer(kids.length, expected);
    if (fewer) return fewer;
    const mainEnd = main.end ?? this.end?.t ?? 0;
    const last = kids.reduce((a, b) => ((b.end ?? Infinity) > (a.end ?? Infinity) ? b : a));
    if (last.end === null || last.end > mainEnd) {
      return {
        tone: 'neutral',
        text: both(`main ended before its child ${last.name}`, `主进程在它的子进程 ${last.name} 之前就结束了`),
      };
    }
    const later = (lang: Lang) => formatDuration(mainEnd - last.end!, lang);
    if (kids.length === 1) {
      const k = kids[0];
      return {
        tone: 'good',
        text: both(
          `${k.name} is a real child of main (its ppid ${k.ppid} is main's pid) and ${exitWords(k.exitcode, 'en')}; ` +
            `main waited for it and ended ${later('en')} later`,
          `${k.name} 是主进程真正的子进程（它的 ppid ${k.ppid} 就是主进程的 pid），${exitWords(k.exitcode, 'zh')}；` +
            `主进程等它结束后，又过了 ${later('zh')}才结束`,
        ),
      };
    }
    const codes = kids.map((k) => String(k.exitcode ?? '?')).join(', ');
    return {
      tone: 'good',
      text: both(
        `main's ${kids.length} children exited (${codes}); main waited for them and ended ${later('en')} after the last`,
        `主进程的 ${kids.length} 个子进程都已退出（${codes}）；主进程等它们结束，在最后一个之后 ${later('zh')}才结束`,
      ),
    };
  }

  private seriesOrOverlap(expected: number): Verdict | null {
    const kids = this.kids();
    if (kids.length === 0) return null;
    const fewer = this.fewer(kids.length, expected);
    if (fewer) return fewer;
    const endT = this.end?.t ?? 0;
    const spans = kids.map((k) => ({ start: k.start, end: k.end ?? endT }));
    // Most children alive at one moment: a sweep over starts and ends, an end first on a tie
    // (a child that exits as the next starts did not overlap it).
    const marks = spans.flatMap((s) => [
      { t: s.start, d: 1 },
      { t: s.end, d: -1 },
    ]);
    marks.sort((a, b) => a.t - b.t || a.d - b.d);
    let alive = 0;
    let most = 0;
    for (const m of marks) {
      alive += m.d;
      most = Math.max(most, alive);
    }
    const n = kids.length;
    if (most <= 1) {
      const each = spans.reduce((sum, s) => sum + (s.end - s.start), 0) / n;
      return {
        tone: 'bad',
        text: both(
          `children ran one after another: ${n} × ${formatDuration(each, 'en')} in series`,
          `子进程一个接一个地串行运行：${n} 个 × ${formatDuration(each, 'zh')}`,
        ),
      };
    }
    const within = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
    return {
      tone: 'good',
      text: both(
        `children overlapped: up to ${most} alive at once, all ${n} done within ${formatDuration(within, 'en')}`,
        `子进程同时运行：最多 ${most} 个同时存活，${n} 个在 ${formatDuration(within, 'zh')}内全部结束`,
      ),
    };
  }

  private exitCodes(end: EndEvent): Verdict | null {
    const kids = this.kids();
    if (kids.length === 0) return null;
    const en = kids.map((k) => `${k.name} ${k.end === null ? 'was still running at the end' : exitWords(k.exitcode, 'en')}`);
    const zh = kids.map((k) => `${k.name} ${k.end === null ? '到结束时仍在运行' : exitWords(k.exitcode, 'zh')}`);
    if (end.reason === 'error' && end.error) {
      en.push(`main raised ${firstSentence(end.error)}`);
      zh.push(`主进程抛出 ${firstSentence(end.error)}`);
    } else if (end.exitcode !== 0) {
      en.push(`main ${exitWords(end.exitcode, 'en')}`);
      zh.push(`主进程${exitWords(end.exitcode, 'zh')}`);
    }
    return { tone: 'neutral', text: both(en.join('; '), zh.join('；')) };
  }

  private pool(expected: number): Verdict | null {
    const workers = this.kids().filter((p) => /PoolWorker-\d+$/.test(p.name) || this.tasks.has(p.pid));
    if (workers.length === 0) return null;
    const counts = workers.map((w) => this.tasks.get(w.pid)?.done ?? 0);
    const failed = workers.reduce((sum, w) => sum + (this.tasks.get(w.pid)?.failed ?? 0), 0);
    const total = counts.reduce((a, b) => a + b, 0);
    const n = Math.max(workers.length, expected);
    const idle = n - counts.filter((c) => c > 0).length;
    const list = counts.join(' + ');
    const raised = failed ? both(`; ${plural(failed, 'task', 'tasks')} raised`, `；其中 ${failed} 个任务抛出了异常`) : both('', '');
    if (total === 0) {
      return { tone: 'neutral', text: both(`the pool's ${n} workers took no tasks`, `进程池的 ${n} 个工作进程没有领到任务`) };
    }
    if (idle === 0) {
      return {
        tone: 'good',
        text: both(
          `the ${n} workers shared the ${total} tasks: ${list}${raised.en}`,
          `${n} 个工作进程分担了 ${total} 个任务：${list}${raised.zh}`,
        ),
      };
    }
    return {
      tone: 'neutral',
      text: both(
        `${n - idle} of the ${n} workers took all ${total} tasks (${list}); ${idle} sat idle${raised.en}`,
        `${n} 个工作进程中只有 ${n - idle} 个领到任务，共 ${total} 个（${list}）；${idle} 个一直闲着${raised.zh}`,
      ),
    };
  }

  private queueLeft(values: string[] | undefined): Verdict | null {
    const q = this.queue;
    if (!q) return null;
    const counts = both(`${q.puts} put, ${q.gets} taken`, `放入 ${q.puts} 个，取出 ${q.gets} 个`);
    if (q.depth === 0) {
      const full = q.maxsize > 0 && q.peak >= q.maxsize;
      return {
        tone: 'good',
        text: full
          ? both(
              `the queue filled up to its limit of ${q.maxsize}, then ended empty: ${counts.en}`,
              `队列先装满到上限 ${q.maxsize}，最后又清空了：${counts.zh}`,
            )
          : both(
              `the queue held at most ${plural(q.peak, 'item', 'items')} and ended empty: ${counts.en}`,
              `队列最多同时有 ${q.peak} 个元素，最后清空：${counts.zh}`,
            ),
      };
    }
    // First in, first out: what is left is what was put last, when the puts are the preset's.
    const left = values && values.length === q.puts && q.gets + q.depth === q.puts ? values.slice(q.gets).join(', ') : null;
    return {
      tone: 'neutral',
      text: both(
        `the queue ended with ${plural(q.depth, 'item', 'items')} left${left ? ` (${left})` : ''}: ${counts.en}`,
        `队列最后剩下 ${q.depth} 个元素${left ? `（${left}）` : ''}：${counts.zh}`,
      ),
    };
  }

  private semaphoreHolders(capacity: number, clients: number): Verdict | null {
    if (this.semId === null || this.semAcquired === 0) return null;
    const most = this.semMost;
    const waited = this.semWaited.size;
    const got = this.semAcquired;
    if (most > capacity) {
      return {
        tone: 'bad',
        text: both(`${most} processes held the Semaphore(${capacity}) at once`, `有 ${most} 个进程同时持有 Semaphore(${capacity})`),
      };
    }
    const all = got >= clients;
    return {
      tone: all ? 'good' : 'neutral',
      text: both(
        `at most ${most} of the ${clients} held the Semaphore(${capacity}) at once; ${all ? `all ${got} got in` : `only ${got} got in`}, ${waited} after waiting for a permit`,
        `最多 ${most} 个（共 ${clients} 个）同时持有 Semaphore(${capacity})；${all ? `${got} 个都进去了` : `只有 ${got} 个进去了`}，其中 ${waited} 个等过许可`,
      ),
    };
  }

  private releasedAtOnce(waiters: number): Verdict | null {
    if (this.eventId === null || this.eventWaited.size === 0) return null;
    const released = this.eventReleased;
    if (this.eventSets === 0) {
      return { tone: 'bad', text: both(`${this.eventWaited.size} waited, and set() never came`, `${this.eventWaited.size} 个在等，set() 却始终没来`) };
    }
    if (released >= waiters) {
      return {
        tone: 'good',
        text: both(`one set() released all ${released} waiting processes at the same instant`, `一次 set() 在同一瞬间放行了全部 ${released} 个等待的进程`),
      };
    }
    return {
      tone: 'neutral',
      text: both(
        `set() released ${released} of the ${waiters} at once; the others reached wait() after it and went straight through`,
        `set() 同时放行了 ${waiters} 个中的 ${released} 个；其余的在 set() 之后才调用 wait()，直接通过`,
      ),
    };
  }

  private stock(stock: number): Verdict | null {
    // A buyer that died before saying how it went (Python's ValueError on a half-written file).
    const crashed = this.kids().filter((p) => !this.buyers.has(p.pid) && p.exitcode !== null && p.exitcode !== 0);
    if (this.sold + this.notSold + crashed.length === 0) return null;
    const locked = this.acquisitions > 0;
    let crashNote = both('', '');
    if (crashed.length > 0) {
      const codes = [...new Set(crashed.map((p) => p.exitcode))].join(', ');
      crashNote = both(
        `; ${plural(crashed.length, 'buyer', 'buyers')} crashed (exit code ${codes})`,
        `；${crashed.length} 个买家出错退出（退出码 ${codes}）`,
      );
    }
    const { sold, notSold } = this;
    if (sold > stock) {
      const lockNote = locked
        ? this.twoHolders
          ? both('; the lock had two holders at once', '；锁曾同时有两个持有者')
          : both('', '')
        : both(' (no lock)', '（没有加锁）');
      return {
        tone: 'bad',
        text: both(
          `${sold} sold of ${stock} in stock: oversold by ${sold - stock}${lockNote.en}${crashNote.en}`,
          `库存 ${stock} 件却卖出了 ${sold} 件：超卖 ${sold - stock} 件${lockNote.zh}${crashNote.zh}`,
        ),
      };
    }
    const head = both(`${sold} sold of ${stock} in stock, ${notSold} turned away`, `库存 ${stock} 件，卖出 ${sold} 件，${notSold} 个买家没抢到`);
    if (!locked) {
      return {
        // A crashed buyer is the race seen from the other side: it read a half-written stock.
        tone: crashed.length > 0 ? 'bad' : 'neutral',
        text: both(
          `${head.en}: no oversell this time, but no lock prevents it${crashNote.en}`,
          `${head.zh}：这次碰巧没有超卖，但没有锁，随时可能超卖${crashNote.zh}`,
        ),
      };
    }
    if (this.twoHolders) {
      return {
        tone: 'bad',
        text: both(`${head.en}, but the lock had two holders at once${crashNote.en}`, `${head.zh}，但锁曾同时有两个持有者${crashNote.zh}`),
      };
    }
    return {
      tone: crashed.length > 0 ? 'bad' : 'good',
      text: both(
        `${head.en}; never two holders of the lock at once${crashNote.en}`,
        `${head.zh}；锁从未同时有两个持有者${crashNote.zh}`,
      ),
    };
  }
}

/** How a process ended, as a phrase: `exited with 0`, `was ended by SIGKILL (exit code -9)`. */
function exitWords(exitcode: number | null, lang: Lang): string {
  if (exitcode === null) return lang === 'en' ? 'ended with an exit code nobody could read' : '退出码无法读取';
  const signal = signalOfExitcode(exitcode);
  if (exitcode < 0) {
    const by = signal ?? `signal ${-exitcode}`;
    return lang === 'en' ? `was ended by ${by} (exit code ${exitcode})` : `被 ${by} 终止（退出码 ${exitcode}）`;
  }
  return lang === 'en' ? `exited with ${exitcode}` : `以退出码 ${exitcode} 退出`;
}

/** Python's long messages read best cut at their first sentence. */
function firstSentence(text: string): string {
  const i = text.indexOf('. ');
  return i > 0 ? text.slice(0, i) : text;
}
