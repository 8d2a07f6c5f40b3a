// CPU % and resident memory of every process, as aligned columns per sampler round (series.ts),
// plus the run's totals per round: the sum of every live process's latest reading (a reading holds
// until the next one or the exit). Charts read either every process, or the total with the
// processes that used the most (topSeries).

import type { SampleEvent } from '../../../src-main/api.ts';
import type { ProcRecord } from './process-table.ts';
import { SampleSeries } from './series.ts';
import type { AlignedSeries, TopSeriesView } from './types.ts';

/** Which part of a series a chart shows, so the model can hand it a level that fits. */
export interface SeriesWindow {
  /** Visible range in seconds (default: everything). */
  from?: number;
  to?: number;
  /** About how many points the chart can show across that range (its width in CSS pixels). */
  points?: number;
}

const MiB = 1024 * 1024;
/** How often (in sampler rounds) to look for series whose data has all been evicted. */
const PRUNE_EVERY = 64;

export class ResourceSeries {
  readonly #cpu: SampleSeries;
  readonly #rss: SampleSeries;
  readonly #cpuSum: SampleSeries;
  readonly #rssSum: SampleSeries;
  /** Latest reading per column, and their sums over the live processes. */
  #lastCpu: number[] = [];
  #lastRss: number[] = [];
  #liveCpu = 0;
  #liveRss = 0;
  /** The process of each column. */
  #colOwner: ProcRecord[] = [];
  #roundStart = -Infinity;
  #roundWindow = 450;
  #rounds = 0;
  /** Bumped when a sample arrives: the busiest processes may have changed. */
  #version = 0;
  #ranked: { version: number; kind: 'cpu' | 'rss'; owners: { rec: ProcRecord; col: number }[] }[] = [];

  constructor(maxPoints: number) {
    this.#cpu = new SampleSeries(maxPoints);
    this.#rss = new SampleSeries(maxPoints);
    this.#cpuSum = new SampleSeries(maxPoints, { foldOnAppend: true });
    this.#rssSum = new SampleSeries(maxPoints, { foldOnAppend: true });
    this.#addSums();
  }

  #addSums(): void {
    const sum = { key: 'total', label: 'total', color: '' };
    this.#cpuSum.add(sum);
    this.#rssSum.add(sum);
  }

  clear(): void {
    for (const s of [this.#cpu, this.#rss, this.#cpuSum, this.#rssSum]) s.clear();
    this.#addSums();
    this.#lastCpu = [];
    this.#lastRss = [];
    this.#liveCpu = 0;
    this.#liveRss = 0;
    this.#colOwner = [];
    this.#roundStart = -Infinity;
    this.#roundWindow = 450;
    this.#rounds = 0;
    this.#ranked = [];
    this.#version++;
  }

  /**
   * A sampler round reads every live pid at once, and the next round starts at least one interval
   * after the previous one ended: samples closer than that belong together.
   */
  setInterval(ms: number): void {
    this.#roundWindow = Math.max(1, ms * 0.9);
  }

  /** A sample of `rec` (already counted in its record); `live`: it had not exited then. */
  sample(rec: ProcRecord, e: SampleEvent, live: boolean): void {
    this.#version++;
    let col = rec.col;
    if (col < 0) {
      const info = { key: rec.key, label: seriesLabel(rec), color: rec.color };
      col = rec.col = this.#cpu.add(info);
      this.#rss.add(info);
      this.#colOwner.push(rec);
      this.#lastCpu.push(0);
      this.#lastRss.push(0);
    }
    // A new round starts after the window, or when this pid already has a value in this round.
    if (e.t - this.#roundStart > this.#roundWindow || this.#cpu.hasLatest(col)) {
      this.#roundStart = e.t;
      const x = e.t / 1000;
      for (const s of [this.#cpu, this.#rss, this.#cpuSum, this.#rssSum]) s.appendRow(x);
      if (++this.#rounds % PRUNE_EVERY === 0) this.#prune();
    }
    const mib = e.rss / MiB;
    this.#cpu.setLatest(col, e.cpu);
    this.#rss.setLatest(col, mib);
    // A reading after the process's exit (its last one) is drawn, but is no longer part of the total.
    if (live) {
      this.#liveCpu += e.cpu - this.#lastCpu[col];
      this.#liveRss += mib - this.#lastRss[col];
      this.#lastCpu[col] = e.cpu;
      this.#lastRss[col] = mib;
    }
    this.#cpuSum.setLatest(0, Math.max(0, this.#liveCpu));
    this.#rssSum.setLatest(0, Math.max(0, this.#liveRss));
  }

  /** A process ended: its last reading leaves the totals. */
  exited(rec: ProcRecord): void {
    const col = rec.col;
    if (col < 0) return;
    this.#liveCpu -= this.#lastCpu[col];
    this.#liveRss -= this.#lastRss[col];
    this.#lastCpu[col] = 0;
    this.#lastRss[col] = 0;
  }

  /** Updates a series' label (e.g. the pid became known). */
  relabel(rec: ProcRecord): void {
    if (rec.col < 0) return;
    const label = seriesLabel(rec);
    this.#cpu.relabel(rec.col, label);
    this.#rss.relabel(rec.col, label);
  }

  /** Drops the series of processes that ended and whose every sample has been evicted. */
  #prune(): void {
    for (let col = this.#colOwner.length - 1; col >= 0; col--) {
      const owner = this.#colOwner[col];
      if (owner.state === 'running' || !this.#cpu.isEmpty(col)) continue;
      this.#cpu.remove(col);
      this.#rss.remove(col);
      this.#colOwner.splice(col, 1);
      this.#lastCpu.splice(col, 1);
      this.#lastRss.splice(col, 1);
      owner.col = -1;
      for (let c = col; c < this.#colOwner.length; c++) this.#colOwner[c].col = c;
    }
  }

  /**
   * Every process, aligned by sampler round. Without a window: every retained round. With one:
   * the coarsest max-level that still has about `points` points in [from, to].
   */
  all(kind: 'cpu' | 'rss', window?: SeriesWindow): AlignedSeries {
    const s = kind === 'cpu' ? this.#cpu : this.#rss;
    return s.view(levelFor(s, window));
  }

  /**
   * For a chart that cannot draw every process: the run's total, the `n` processes that used the
   * most (CPU time, or peak RSS) each as its own line, and the selected process (by row key) as
   * one more when it is not among them.
   */
  top(kind: 'cpu' | 'rss', window: SeriesWindow | undefined, n: number, selectedKey: string | null): TopSeriesView {
    const series = kind === 'cpu' ? this.#cpu : this.#rss;
    const sum = kind === 'cpu' ? this.#cpuSum : this.#rssSum;
    const level = levelFor(series, window);
    const all = series.view(level);
    const total = sum.view(level).data[1];
    const ranked = this.#rank(kind);
    const line = ({ rec, col }: { rec: ProcRecord; col: number }) => ({
      key: rec.key,
      name: rec.name,
      pid: rec.pid,
      label: seriesLabel(rec),
      color: rec.color,
      data: all.data[col + 1],
      selected: rec.key === selectedKey,
      col,
    });
    const lines = ranked.slice(0, n).map(line);
    if (selectedKey !== null && !lines.some((l) => l.selected)) {
      const sel = ranked.find((o) => o.rec.key === selectedKey);
      if (sel) lines.push(line(sel));
    }
    return { xs: all.data[0], total, lines, others: Math.max(0, ranked.length - lines.length), level, structure: all.structure };
  }

  /** The processes by what they used, most first; sorted again only after new samples. */
  #rank(kind: 'cpu' | 'rss'): { rec: ProcRecord; col: number }[] {
    const c = this.#ranked.find((r) => r.kind === kind);
    if (c && c.version === this.#version) return c.owners;
    const owners = this.#colOwner.map((rec, col) => ({ rec, col }));
    const weight = (r: ProcRecord) => (kind === 'cpu' ? (r.cpuSeconds ?? 0) : (r.peakRss ?? 0));
    owners.sort((a, b) => weight(b.rec) - weight(a.rec) || a.rec.index - b.rec.index);
    this.#ranked = [...this.#ranked.filter((r) => r.kind !== kind), { version: this.#version, kind, owners }];
    return owners;
  }
}

function levelFor(s: SampleSeries, w: SeriesWindow | undefined): number {
  if (!w || !w.points) return 0;
  return s.pickLevel(w.from ?? -Infinity, w.to ?? Infinity, w.points);
}

function seriesLabel(rec: ProcRecord): string {
  return rec.pid === null ? rec.name : `${rec.name} (${rec.pid})`;
}
