// The window's views of synchronisation objects, end to end, on one real Python run
// (test/fixtures/python/sync_tour.py): a semaphore's count row, the marks of a Condition, an
// Event and two Barriers (notify, set, clear, a generation's release, abort, broken), the
// shared-objects view of a manager's dict and list, and Stacks linking a process blocked in a
// queue's get() and one blocked in an Event's wait() to their waits. The program stays stuck at
// its end on purpose: the Stacks test reads it stuck, then stops it, and the others read it stopped. Screenshots go to .tmp/e2e-screens/sync-*.png.
//
// Needs Chromium (see web.test.ts) and python3.

import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src-main/core/backend.ts';
import type { WebShell } from '../../src-main/web/server.ts';
import { alive as isAlive } from '../helpers/leaks.ts';
import { startE2eShell } from './shell.ts';

const root = path.resolve(import.meta.dirname, '../..');
const screensDir = path.join(root, '.tmp', 'e2e-screens');
const chromiumPath = process.env.PROCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const TOUR = path.join(root, 'test', 'fixtures', 'python', 'sync_tour.py');
const CROWD = path.join(root, 'test', 'fixtures', 'python', 'shared_crowd.py');
const RUN_TIMEOUT = 60_000;
const UI_TIMEOUT = 20_000;

interface Mark {
  op: string;
  t: number;
  pid: number;
  released: number[];
  generation?: number;
}
interface Span {
  pid: number;
  start: number;
  end: number | null;
}

const reason = fs.existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath}`;

if (reason !== null) {
  describe('sync views (end to end)', () => {
    it.skip(`skipped because ${reason}`, () => undefined);
  });
} else {
  describe('sync views (end to end)', () => {
    let home: string;
    let backend: Backend;
    let shell: WebShell;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const seenPids = new Set<number>();

    beforeAll(async () => {
      ({ home, backend, shell } = await startE2eShell('procscope-e2e-sync-'));
      browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
      fs.mkdirSync(screensDir, { recursive: true });
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', colorScheme: 'light' });
      page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${e.message}\n${e.stack ?? ''}`));
      await page.goto(shell.url);
      await page.locator('[data-testid=preset-select] option[value="flash-sale"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    });

    afterAll(async () => {
      await backend?.handle('run.stop', {});
      await browser?.close();
      await shell?.close();
      await backend?.dispose();
      if (home) fs.rmSync(home, { recursive: true, force: true });
      expect(pageErrors, 'exceptions thrown in the page').toEqual([]);
      expect([...seenPids].filter(isAlive), 'processes of the run still alive after the suite').toEqual([]);
    });

    async function shoot(name: string): Promise<void> {
      if (!name.includes('tooltip')) await page.mouse.move(1, 1);
      await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready.then(() => undefined));
      await page.screenshot({ path: path.join(screensDir, `sync-${name}.png`) });
    }

    const lane = (kind: string, nth = 0): Locator => page.locator(`[data-testid=lock-lane-data][data-kind=${kind}]`).nth(nth);
    const marksOf = async (l: Locator): Promise<Mark[]> => JSON.parse((await l.getAttribute('data-marks')) ?? '[]') as Mark[];
    const spansOf = async (l: Locator, attr: 'data-holds' | 'data-waits'): Promise<Span[]> => JSON.parse((await l.getAttribute(attr)) ?? '[]') as Span[];

    /** The page point of time `ms` on the top row of the lane of `lock`. */
    async function onLane(lock: string, ms: number): Promise<{ x: number; y: number }> {
      const label = page.locator(`[data-testid=chart-locks] [data-testid=lane-label][data-key="lock:${lock}"]`);
      await label.scrollIntoViewIfNeeded();
      const chart = page.getByTestId('chart-locks');
      const box = await chart.boundingBox();
      const lb = await label.boundingBox();
      const d = await chart.evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
      if (!box || !lb) throw new Error('the lane is not laid out');
      const x0 = Number(d.xmin);
      const x1 = Number(d.xmax);
      return { x: box.x + Number(d.plotLeft) + ((ms / 1000 - x0) / (x1 - x0)) * Number(d.plotWidth), y: lb.y + lb.height / 2 };
    }

    /**
     * Zooms every chart to [fromMs, toMs] by dragging across the lane of `lock`, so that marks a
     * few ms apart are pixels apart.
     */
    async function zoomTo(lock: string, fromMs: number, toMs: number): Promise<void> {
      const a = await onLane(lock, fromMs);
      const b = await onLane(lock, toMs);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move(b.x, b.y, { steps: 6 });
      await page.mouse.up();
      await page.getByTestId('zoom-range').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    }

    async function tipAt(p: { x: number; y: number }): Promise<string> {
      await page.mouse.move(p.x - 3, p.y);
      await page.mouse.move(p.x, p.y);
      const title = page.getByTestId('tooltip-title');
      await title.waitFor({ timeout: UI_TIMEOUT });
      return (await title.textContent()) ?? '';
    }

    it('runs the tour under Python until it is stuck on purpose', async () => {
      await page.getByTestId('open-button').click();
      await page.getByTestId('path-input').fill(TOUR);
      await page.getByTestId('path-input').press('Enter');
      await page.getByTestId('code-custom-runs').waitFor({ timeout: UI_TIMEOUT });
      await page.getByTestId('start-button').click();
      await page.getByTestId('tab-console').click();
      await expect
        .poll(() => page.locator('[data-testid=console-line]').allTextContents(), { timeout: RUN_TIMEOUT, message: 'the consumer and the sleeper wait' })
        .toEqual(expect.arrayContaining([expect.stringContaining('consumer waits'), expect.stringContaining('sleeper waits')]));
      for (const p of await page.locator('[data-testid=process-row]').evaluateAll((els) => els.map((e) => Number((e as unknown as { getAttribute(n: string): string }).getAttribute('data-pid'))))) {
        seenPids.add(p);
      }
    });

    it('Stacks links the consumer blocked in get() and the sleeper blocked in wait() to their waits', async () => {
      await page.getByTestId('tab-stacks').click();
      const consumerPid = Number(await page.locator('[data-testid=process-row]').filter({ has: page.getByTitle('consumer', { exact: true }) }).getAttribute('data-pid'));
      const sleeperPid = Number(await page.locator('[data-testid=process-row]').filter({ has: page.getByTitle('sleeper', { exact: true }) }).getAttribute('data-pid'));
      const link = (pid: number) => page.locator(`[data-testid=stacks-process][data-pid="${pid}"] [data-testid=stacks-wait-link]`);
      await expect
        .poll(
          async () => {
            await page.getByTestId('stacks-capture').click();
            await page.getByTestId('stacks-time').waitFor({ timeout: UI_TIMEOUT });
            return (await link(consumerPid).count()) + (await link(sleeperPid).count());
          },
          { timeout: UI_TIMEOUT, message: 'both have a link to their wait' },
        )
        .toBe(2);
      expect(await link(consumerPid).textContent()).toMatch(/blocked in get\(\) on Queue 1/);
      expect(await link(sleeperPid).textContent()).toMatch(/blocked in wait\(\) on Event \d+/);
      await shoot('4-stacks-links');

      await link(consumerPid).click();
      await expect.poll(() => page.getByTestId('details-title').textContent()).toBe(`consumer (${consumerPid}) waits on Queue 1`);
      await expect.poll(() => page.locator(`[data-testid=queue-legend][data-selected-wait="${consumerPid}"]`).count(), { message: 'the queue chart marks the wait' }).toBe(1);
      await expect.poll(() => page.locator('[data-view=queues]').evaluate((e) => {
        const r = (e as unknown as { getBoundingClientRect(): { top: number; bottom: number } }).getBoundingClientRect();
        return r.top >= 0 && r.top < 900;
      }), { message: 'the queue chart is scrolled into view' }).toBe(true);
      await shoot('4-stacks-queue-wait');

      await page.getByTestId('tab-stacks').click();
      const sleeperLink = link(sleeperPid);
      const lock = await sleeperLink.getAttribute('data-id');
      await sleeperLink.click();
      await expect.poll(() => page.getByTestId('details-title').textContent()).toMatch(new RegExp(`^sleeper \\(${sleeperPid}\\) waits on Event \\d+$`));
      expect(await page.getByTestId('details-wait').textContent()).toContain('still waiting');
      await expect
        .poll(() => page.locator(`[data-testid=chart-locks] [data-testid=lane-label][data-key="lock:${lock}"]`).evaluate((e) => (e as unknown as { classList: { contains(c: string): boolean } }).classList.contains('selected')), {
          message: "the sleeper's Event lane is selected",
        })
        .toBe(true);
      await shoot('4-stacks-event-wait');

      // The rest reads the run as it stays once stopped (a live run's range moves under the pointer).
      await page.getByTestId('stop-button').click();
      await expect.poll(() => page.getByTestId('run-status').getAttribute('data-phase'), { timeout: RUN_TIMEOUT }).toBe('stopped');
    });
    it("a semaphore's top row counts its holders against its capacity, with who holds it on hover", async () => {
      const sem = lane('semaphore');
      await expect.poll(() => sem.getAttribute('data-most-held'), { timeout: UI_TIMEOUT, message: 'Semaphore(2): at most two held it, and two did' }).toBe('2');
      const holds = await spansOf(sem, 'data-holds');
      expect(holds.length, 'five cars, one hold each').toBe(5);
      // An instant two cars held it: the middle of the longest overlap of two holds.
      let best: { a: number; b: number; pids: number[] } = { a: 0, b: 0, pids: [] };
      for (const h of holds) {
        for (const k of holds) {
          if (h === k) continue;
          const a = Math.max(h.start, k.start);
          const b = Math.min(h.end ?? Infinity, k.end ?? Infinity);
          if (b - a > best.b - best.a) best = { a, b, pids: [h.pid, k.pid] };
        }
      }
      expect(best.b, 'two holds overlap').toBeGreaterThan(best.a);
      const id = (await sem.getAttribute('data-lock')) ?? '';
      await zoomTo(id, Math.min(...holds.map((h) => h.start)) - 50, Math.max(...holds.map((h) => h.end ?? h.start)) + 50);
      expect(await tipAt(await onLane(id, (best.a + best.b) / 2))).toBe('Semaphore 1 (2 at once)');
      const tip = (await page.getByTestId('chart-tooltip').textContent()) ?? '';
      expect(tip, 'the count').toContain('2 of 2');
      for (const pid of best.pids) expect(tip, `holder ${pid} is named`).toContain(`(${pid})`);
      await shoot('1-semaphore-tooltip');
      await page.getByTestId('charts-reset-zoom').click();
    });

    it('a Condition, an Event and two Barriers have their marks: notify, set, clear, a release, abort and broken; a mark hovers and selects', async () => {
      const cond = lane('condition');
      await expect.poll(async () => (await marksOf(cond)).filter((m) => m.op === 'notify').length, { timeout: UI_TIMEOUT, message: 'one notify mark' }).toBeGreaterThan(0);
      const notify = (await marksOf(cond)).find((m) => m.op === 'notify') as Mark;
      expect(notify.released.length, 'the notify_all() woke the three runners').toBe(3);

      const ev = lane('event', 0);
      const evMarks = await marksOf(ev);
      expect(evMarks.map((m) => m.op), 'the Event was set, then cleared').toEqual(['set', 'clear']);
      const evWaits = await spansOf(ev, 'data-waits');
      expect(evWaits.length, 'a runner that found the Event already set did not wait').toBe(evMarks[0].released.length);
      // Each runner reports its own wait (and exit), maybe before main reports the set(): still, each wait ends there.
      for (const w of evWaits) expect(w.end, `the wait of ${w.pid} ends at the set()`).toBe(evMarks[0].t);

      const bar = lane('barrier', 0);
      const release = (await marksOf(bar)).find((m) => m.op === 'release');
      expect(release?.released.length, "the barrier's generation let its three parties go").toBe(3);
      expect(release?.generation).toBe(1);
      const bar2 = lane('barrier', 1);
      const marks2 = await marksOf(bar2);
      const abort = marks2.find((m) => m.op === 'abort');
      expect(abort, 'the second barrier was aborted').toBeDefined();
      // Its two waiters were broken by the abort, or (one arriving after it) found it broken.
      const broken = new Set([...(abort?.released ?? []), ...marks2.filter((m) => m.op === 'broken').map((m) => m.pid)]);
      expect(broken.size, 'both runners that waited at it were told it broke').toBe(2);

      // The notify on the Condition's top row: its tooltip, then a click selects it.
      const condId = (await cond.getAttribute('data-lock')) ?? '';
      await zoomTo(condId, evMarks[0].t - 100, notify.t + 100);
      const at = await onLane(condId, notify.t);
      const title = await tipAt(at).catch(async (e: unknown) => {
        await shoot('2-failed-tooltip');
        throw e;
      });
      expect(title).toMatch(/^notify\(\) on Condition \d+$/);
      await shoot('2-notify-tooltip');
      await page.mouse.click(at.x, at.y);
      await expect.poll(() => page.getByTestId('details-title').textContent(), { message: 'the details pane shows the mark' }).toBe(title);
      await expect.poll(() => page.locator('[data-testid=details-mark-released] li').count(), { message: 'and the three it woke' }).toBe(3);
      await shoot('2-sync-lanes');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shoot('2-sync-lanes-dark');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.getByTestId('charts-reset-zoom').click();
    });

    it('the shared-objects view counts who read and wrote the dict and the list', async () => {
      await page.getByTestId('view-shared').click();
      const view = page.getByTestId('chart-shared');
      await expect.poll(() => view.getAttribute('data-objects'), { timeout: UI_TIMEOUT, message: 'a dict and a list' }).toBe('2');
      const cells = page.locator('[data-testid=shared-cell]');
      await expect.poll(() => cells.count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
      const all = await cells.evaluateAll((els) =>
        els.map((e) => {
          const g = (n: string) => (e as unknown as { getAttribute(n: string): string }).getAttribute(n);
          return { object: g('data-object'), reads: Number(g('data-reads')), writes: Number(g('data-writes')) };
        }),
      );
      const kinds = await page.locator('[data-testid=shared-object]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-kind')));
      expect(kinds).toEqual(['dict', 'list']);
      const dictId = await page.locator('[data-testid=shared-object]').first().getAttribute('data-id');
      const sum = (obj: string | null, k: 'reads' | 'writes') => all.filter((c) => c.object === obj).reduce((a, c) => a + c[k], 0);
      // Five cars each wrote it once; three runners each read it three times.
      expect(sum(dictId, 'writes'), 'five writes to the dict').toBe(5);
      expect(sum(dictId, 'reads'), 'nine reads of the dict').toBe(9);
      await expect.poll(() => page.locator('[data-testid=shared-row]').count(), { message: 'a row per process that touched one' }).toBe(8);
      const cell = cells.filter({ hasText: 'r' }).first();
      await cell.scrollIntoViewIfNeeded();
      const box = await cell.boundingBox();
      if (!box) throw new Error('no cell box');
      const tip = await tipAt({ x: box.x + box.width / 2, y: box.y + box.height / 2 });
      expect(tip).toMatch(/^runner-\d \(\d+\) · dict 1$/);
      await shoot('3-shared-tooltip');
    });


    it('with 120 processes, the shared-objects view counts every one, keeps its header in view while it scrolls, and speaks Chinese', async () => {
      const stale = new Set(await page.locator('[data-testid=process-row]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-pid'))));
      await page.getByTestId('open-button').click();
      await page.getByTestId('path-input').fill(CROWD);
      await page.getByTestId('path-input').press('Enter');
      await page.getByTestId('start-button').click();
      await expect.poll(() => page.getByTestId('run-status').getAttribute('data-phase'), { timeout: RUN_TIMEOUT, message: 'the crowd finishes' }).toBe('finished');
      const pids = await page.locator('[data-testid=process-row]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-pid')));
      expect(pids.some((p) => stale.has(p)), 'the table shows the new run').toBe(false);
      for (const p of pids) seenPids.add(Number(p));

      await page.getByTestId('view-shared').click();
      const view = page.getByTestId('chart-shared');
      await expect.poll(() => view.getAttribute('data-objects'), { timeout: UI_TIMEOUT }).toBe('5');
      const kinds = await page.locator('[data-testid=shared-object]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-kind')));
      expect(kinds).toEqual(['dict', 'list', 'namespace', 'value', 'array']);
      // Every worker wrote the dict (and main read its length): 121 rows.
      await expect.poll(() => page.locator('[data-testid=shared-row]').count(), { timeout: UI_TIMEOUT }).toBe(121);
      const cells = await page.locator('[data-testid=shared-cell]').evaluateAll((els) =>
        els.map((e) => {
          const g = (n: string) => (e as unknown as { getAttribute(n: string): string }).getAttribute(n);
          return { object: g('data-object'), reads: Number(g('data-reads')), writes: Number(g('data-writes')) };
        }),
      );
      const ids = await page.locator('[data-testid=shared-object]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('data-id')));
      const sum = (j: number, k: 'reads' | 'writes') => cells.filter((c) => c.object === ids[j]).reduce((a, c) => a + c[k], 0);
      // dict: 120 writes, 30 * (0 + 1 + 2 + 3) gets + main's len(); list: 60 appends + main's len().
      expect([sum(0, 'reads'), sum(0, 'writes'), sum(1, 'reads'), sum(1, 'writes'), sum(2, 'writes'), sum(3, 'writes'), sum(4, 'writes')]).toEqual([181, 120, 1, 60, 10, 10, 10]);
      // The busiest first: the first ten workers touch every object.
      const first = await page.locator('[data-testid=shared-row]').first().locator('th').textContent();
      expect(first, 'a process with the most calls heads the table').toMatch(/^w00[0-9]/);
      await view.scrollIntoViewIfNeeded();
      await shoot('5-shared-crowd');

      // Scrolled to its end, the header and the totals stay on top.
      const scroller = view.locator('.scroll');
      await scroller.evaluate((e) => {
        const el = e as unknown as { scrollTop: number; scrollHeight: number };
        el.scrollTop = el.scrollHeight;
      });
      const head = await view.locator('thead th.obj').first().boundingBox();
      const box = await scroller.boundingBox();
      expect(head && box && head.y >= box.y - 1 && head.y < box.y + 30, 'the header is at the top of the scrolled table').toBe(true);
      await shoot('5-shared-crowd-scrolled');

      await page.getByTestId('lang-toggle').click();
      await expect.poll(() => page.getByTestId('view-shared').textContent()).toBe('共享对象');
      expect(await view.locator('thead th.who').first().textContent()).toBe('进程');
      await shoot('5-shared-crowd-zh');
      await page.getByTestId('lang-toggle').click();
    });
  });
}
