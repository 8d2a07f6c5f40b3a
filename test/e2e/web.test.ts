// The web shell end to end: the real server and Backend in this process (runs in a temp folder),
// the real built renderer in Chromium, driven the way a person drives it: pick a program, press
// Start, press a row's buttons, open menus. Every wait is on what the page shows (polling the DOM),
// never a fixed sleep, and nothing asserts on timing. Each test leaves a screenshot in
// .tmp/e2e-screens/ (and a `-failed` one when it fails) for a person to look at.
//
// Needs Chromium: /usr/bin/chromium (Debian's package), or PROCSCOPE_CHROMIUM=/path/to/chrome.
// Without one the suite is skipped and says why.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src-main/core/backend.ts';
import type { WebShell } from '../../src-main/web/server.ts';
import { startE2eShell } from './shell.ts';
import { alive as isAlive } from '../helpers/leaks.ts';
import { STUCK_PY } from '../helpers/fixtures.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { VerdictReader } from '../../src-main/common/verdict.ts';

const root = path.resolve(import.meta.dirname, '../..');
const screensDir = path.join(root, '.tmp', 'e2e-screens');
const chromiumPath = process.env.PROCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
/** A run of a preset ends within seconds; this only bounds a hang. */
const RUN_TIMEOUT = 60_000;
const UI_TIMEOUT = 20_000;

// The few DOM shapes the page-side callbacks touch (the test program has no DOM lib).
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
  closest(selector: string): PageElement | null;
  checkVisibility(options?: { checkOpacity?: boolean; checkVisibilityCSS?: boolean }): boolean;
  querySelector(selector: string): PageElement | null;
  parentElement: PageElement | null;
}
interface PageDocument {
  querySelector(selector: string): (PageElement & { selectedOptions?: ArrayLike<PageElement> }) | null;
  createTreeWalker(root: PageElement, whatToShow: number): { nextNode(): (PageElement & { nodeType: number }) | null };
}
interface PageWebSocket {
  onopen: (() => void) | null;
  onclose: ((e: { code: number }) => void) | null;
  close(): void;
}

const reason = fs.existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath} (apt-get install chromium, or set PROCSCOPE_CHROMIUM)`;

if (reason !== null) {
  describe('web shell (end to end)', () => {
    console.log(`test/e2e/web.test.ts skipped: ${reason}`);
    it.skip(`skipped because ${reason}`, () => undefined);
  });
} else {
  describe('web shell (end to end)', () => {
    let home: string;
    let backend: Backend;
    let shell: WebShell;
    let browser: Browser;
    let origin: string;
    /** Every pid a test saw in the process table: none may outlive the suite's runs. */
    const seenPids = new Set<number>();
    /** The page of the test running, for its failure screenshot. */
    let current: { context: BrowserContext; page: Page } | null = null;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      ({ home, backend, shell } = await startE2eShell('procscope-e2e-web-'));
      origin = new URL(shell.url).origin;
      browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
      fs.mkdirSync(screensDir, { recursive: true });
    });

    afterEach(async (ctx) => {
      if (current) {
        if (ctx.task.result?.state === 'fail') await shoot(current.page, `${slug(ctx.task.name)}-failed`).catch(() => undefined);
        await current.context.close();
        current = null;
      }
      // A failed test must not leave its run going: the next one could not start.
      await backend.handle('run.stop', {});
      const errors = pageErrors.splice(0);
      expect(errors, 'exceptions thrown in the page').toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await shell?.close();
      await backend?.dispose();
      if (home) fs.rmSync(home, { recursive: true, force: true });
      const alive = [...seenPids].filter(isAlive);
      expect(alive, 'processes of the runs still alive after the suite').toEqual([]);
    });

    // ---- helpers ------------------------------------------------------------------------------

    /** A fresh browser profile (its own cookie and localStorage) with the app loaded. */
    async function openApp(opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
      const context = await browser.newContext({
        viewport: { width: 1440, height: 900 },
        locale: 'en-US',
        colorScheme: opts.colorScheme ?? 'light',
        acceptDownloads: true,
      });
      const page = await context.newPage();
      current = { context, page };
      // An exception in the page is a failure of the test that caused it, whatever it asserts.
      page.on('pageerror', (e) => {
        pageErrors.push(`${e.message}\n${e.stack ?? ''}`);
        console.error('page error:', e.message, e.stack);
      });
      const res = await page.goto(shell.url);
      expect(res?.status(), 'the app with its token loads').toBe(200);
      await settled(page);
      return page;
    }

    /**
     * Waits until a (re)loaded page shows what it will show: the presets (the WebSocket is up) and,
     * when the engine ran something before, that run's replay. A Start pressed before the replay
     * arrived would see the old run's rows appear after it, and take them for the new run's.
     */
    async function settled(page: Page): Promise<void> {
      await page.locator('[data-testid=preset-select] option[value="flash-sale"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
      if ((await backend.handle('runs.list', {})).length > 0) {
        await expect.poll(() => rows(page).count(), { timeout: UI_TIMEOUT, message: "the engine's last run is replayed into the page" }).toBeGreaterThan(0);
      }
    }

    function slug(name: string): string {
      return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
    }

    async function shoot(page: Page, name: string): Promise<string> {
      const file = path.join(screensDir, `web-${name}.png`);
      // The pointer off the content: a hover highlight is not part of what is being shown (unless
      // the shot is of a tooltip). And the fonts in: the Chinese face loads its slices on demand.
      if (!name.includes('tooltip')) await page.mouse.move(1, 1);
      await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready.then(() => undefined));
      await page.screenshot({ path: file });
      return file;
    }

    function attrs(loc: Locator, name: string): Promise<(string | null)[]> {
      return loc.evaluateAll((els, n) => els.map((e) => (e as unknown as PageElement).getAttribute(n)), name);
    }

    function rows(page: Page): Locator {
      return page.locator('[data-testid=process-row]');
    }

    function row(page: Page, name: string): Locator {
      return rows(page).filter({ has: page.getByTitle(name, { exact: true }) });
    }

    async function rowPids(page: Page): Promise<number[]> {
      return (await attrs(rows(page), 'data-pid')).filter((p): p is string => !!p).map(Number);
    }

    /** The text printed, line by line, without the time and pid columns. */
    function consoleTexts(page: Page): Promise<string[]> {
      return page
        .locator('[data-testid=console-line]')
        .evaluateAll((els) => els.map((e) => (e as unknown as PageElement).querySelector('.text')?.textContent ?? ''));
    }

    function phase(page: Page): Promise<string | null> {
      return page.getByTestId('run-status').getAttribute('data-phase');
    }

    /** Picks a preset and presses Start; returns once the new run's processes are in the table. */
    async function startPreset(page: Page, preset: string): Promise<void> {
      // A fresh page shows the engine's last run: the new run is the one whose pids are new.
      const stale = new Set(await rowPids(page));
      await page.getByTestId('preset-select').selectOption(preset);
      await page.getByTestId('start-button').click();
      await expect
        .poll(async () => {
          const pids = await rowPids(page);
          return pids.length > 0 && pids.every((p) => !stale.has(p));
        }, { timeout: RUN_TIMEOUT, message: `the processes of the new ${preset} run appear` })
        .toBe(true);
    }

    async function waitFinished(page: Page): Promise<void> {
      await expect.poll(() => phase(page), { timeout: RUN_TIMEOUT, message: 'the run ends (run-status phase "finished")' }).toBe('finished');
      for (const pid of await rowPids(page)) seenPids.add(pid);
    }

    // ---- 1. flash-sale --------------------------------------------------------------------------

    it('flash-sale: 11 processes, 3 of 10 buyers succeed, and the lock is held by one process at a time', async () => {
      const page = await openApp();
      await startPreset(page, 'flash-sale');
      await waitFinished(page);

      await expect.poll(() => rows(page).count(), { message: 'main + 10 buyers in the table' }).toBe(11);
      await expect.poll(() => attrs(rows(page), 'data-exitcode'), { message: 'every process exited with 0' }).toEqual(Array(11).fill('0'));

      const lines = page.locator('[data-testid=console-line]');
      const sold = lines.filter({ hasText: '抢购成功' });
      await expect.poll(() => sold.count(), { message: 'exactly 3 buyers got one of the 3 items' }).toBe(3);
      await expect.poll(() => lines.filter({ hasText: '抢购失败' }).count(), { message: 'the other 7 were told it is sold out' }).toBe(7);
      for (const line of await sold.all()) expect(await line.isVisible(), 'each success line is visible in the console').toBe(true);

      // The lanes are a canvas; LockLanes writes each lane's holds on a hidden element too.
      const lanes = page.getByTestId('lock-lane-data');
      await expect.poll(() => lanes.count(), { message: 'one lock lane' }).toBe(1);
      await expect.poll(async () => Number(await lanes.first().getAttribute('data-hold-count')), { message: '10 holds, one per buyer' }).toBe(10);
      const holds = JSON.parse((await lanes.first().getAttribute('data-holds')) ?? '[]') as { pid: number; start: number; end: number | null }[];
      const buyers = (await rowPids(page)).slice(1);
      expect(holds.map((h) => h.pid).sort(), 'each buyer held the lock once').toEqual([...buyers].sort());
      for (const h of holds) {
        expect(h.end, `the hold of ${h.pid} ended`).not.toBeNull();
        expect(h.end as number).toBeGreaterThanOrEqual(h.start);
      }
      const byStart = [...holds].sort((a, b) => a.start - b.start);
      for (let i = 1; i < byStart.length; i++) {
        expect(byStart[i].start, `hold ${i} (pid ${byStart[i].pid}) starts after the previous (pid ${byStart[i - 1].pid}) released`).toBeGreaterThanOrEqual(
          byStart[i - 1].end as number,
        );
      }
      await shoot(page, '1-flash-sale');
      // The lock lanes and the timeline are further down the charts panel.
      await page.getByTestId('chart-timeline').scrollIntoViewIfNeeded();
      await shoot(page, '1-flash-sale-locks');

      // The same window in the dark scheme, for a person to check it stays readable.
      await page.emulateMedia({ colorScheme: 'dark' });
      await expect
        .poll(() => page.evaluate(() => (globalThis as unknown as { matchMedia(q: string): { matches: boolean } }).matchMedia('(prefers-color-scheme: dark)').matches))
        .toBe(true);
      await shoot(page, '1-flash-sale-dark');
    });

    // ---- 9. parking-lot and starting-gun ---------------------------------------------------------

    type Span = { pid: number; start: number; end: number | null };
    const laneSpans = async (lane: Locator, attr: 'data-holds' | 'data-waits'): Promise<Span[]> => JSON.parse((await lane.getAttribute(attr)) ?? '[]') as Span[];

    it("parking-lot: the semaphore's lane never has more than three cars parked at once, and all eight park", async () => {
      const page = await openApp();
      await startPreset(page, 'parking-lot');
      await waitFinished(page);
      const lane = page.locator('[data-testid=lock-lane-data][data-kind=semaphore]');
      await expect.poll(() => lane.count(), { message: 'one semaphore lane' }).toBe(1);
      await expect.poll(async () => Number(await lane.getAttribute('data-hold-count')), { message: 'eight holds, one per car' }).toBe(8);
      // The lane may show the run's end a frame after the status does: every car has left by then.
      await expect
        .poll(async () => (await laneSpans(lane, 'data-holds')).filter((h) => h.end !== null).length, { message: 'eight holds ended' })
        .toBe(8);
      const holds = await laneSpans(lane, 'data-holds');
      const cars = (await rowPids(page)).slice(1);
      expect(holds.map((h) => h.pid).sort(), 'each car parked once').toEqual([...cars].sort());
      // Most cars parked at one moment: a sweep over the holds, a leaving car first on a tie.
      const marks = holds.flatMap((h) => [
        { t: h.start, d: 1 },
        { t: h.end as number, d: -1 },
      ]);
      marks.sort((a, b) => a.t - b.t || a.d - b.d);
      let parked = 0;
      let most = 0;
      for (const m of marks) most = Math.max(most, (parked += m.d));
      expect(most, 'at most three cars in the lot at once, and it did fill up').toBe(3);
      const waits = await laneSpans(lane, 'data-waits');
      expect(waits.length, 'cars beyond the three spaces waited for one').toBeGreaterThan(0);
      for (const w of waits) expect(holds.find((h) => h.pid === w.pid)?.start, `car ${w.pid} parked when its wait ended`).toBe(w.end);
      expect((await lessonBox(page)).view).toBe('locks');
      await expect.poll(() => page.getByTestId('verdict').textContent(), { timeout: UI_TIMEOUT }).toContain('at most 3 of the 8 held the Semaphore(3) at once');
      await shoot(page, '9a-parking-lot');
    });

    it("starting-gun: the five runners' waits on the Event all end at the one set()", async () => {
      const page = await openApp();
      await startPreset(page, 'starting-gun');
      await waitFinished(page);
      const lane = page.locator('[data-testid=lock-lane-data][data-kind=event]');
      await expect.poll(() => lane.count(), { message: 'one Event lane' }).toBe(1);
      await expect
        .poll(async () => (await laneSpans(lane, 'data-waits')).filter((w) => w.end !== null).length, { timeout: UI_TIMEOUT, message: 'five finished waits' })
        .toBe(5);
      const waits = await laneSpans(lane, 'data-waits');
      const runners = (await rowPids(page)).slice(1);
      expect(waits.map((w) => w.pid).sort(), 'each runner waited once').toEqual([...runners].sort());
      expect(new Set(waits.map((w) => w.end)).size, 'the five waits end at one instant: the set()').toBe(1);
      expect(await lane.getAttribute('data-hold-count'), 'an Event has no holders').toBe('0');
      expect((await lessonBox(page)).view).toBe('locks');
      await expect.poll(() => page.getByTestId('verdict').textContent(), { timeout: UI_TIMEOUT }).toContain('one set() released all 5 waiting processes');
      await shoot(page, '9b-starting-gun');
    });

    // ---- 2. members -----------------------------------------------------------------------------

    it('members: the scripted part prints -15 and -9; demo3 from its row: close() while running fails, terminate + join give -15', async () => {
      const page = await openApp();
      await startPreset(page, 'members');
      const demo3 = row(page, 'demo3');
      await expect.poll(() => demo3.getAttribute('data-state'), { timeout: RUN_TIMEOUT, message: 'demo3 waits, created, not started' }).toBe('created');

      // By then the script has stopped demo with terminate() and demo2 with kill(), and printed both.
      const texts = await consoleTexts(page);
      expect(texts, 'p.exitcode after terminate() + join()').toContain('-15');
      expect(texts, 'q.exitcode after kill() + join()').toContain('-9');
      expect(await row(page, 'demo').getAttribute('data-exitcode')).toBe('-15');
      expect(await row(page, 'demo2').getAttribute('data-exitcode')).toBe('-9');

      await demo3.getByTestId('row-start').click();
      await expect.poll(() => demo3.getAttribute('data-state'), { timeout: UI_TIMEOUT, message: 'demo3 runs after start()' }).toBe('running');
      await expect.poll(async () => Number(await demo3.getAttribute('data-pid')), { message: 'demo3 has a pid' }).toBeGreaterThan(0);

      // Python: close() on a running process raises ValueError; the row shows the error.
      await demo3.getByTestId('row-close').click();
      const result = demo3.getByTestId('row-result');
      await expect
        .poll(() => result.textContent(), { timeout: UI_TIMEOUT, message: 'close() while running answers with the ValueError' })
        .toContain('Cannot close a process while it is still running');
      expect(await demo3.getAttribute('data-state'), 'the failed close() left it running').toBe('running');

      await demo3.getByTestId('row-terminate').click();
      await demo3.getByTestId('row-join').click();
      await expect.poll(() => demo3.getAttribute('data-exitcode'), { timeout: UI_TIMEOUT, message: 'terminate() then join(): exitcode -15' }).toBe('-15');
      expect(await demo3.getAttribute('data-state')).toBe('exited');
      await expect.poll(() => result.textContent(), { message: 'join() answered (None)' }).toMatch(/join\(\)\s*→\s*None/);
      await shoot(page, '2-members-demo3-terminated');

      // Closing the object lets the scenario's main return: the run ends.
      await demo3.getByTestId('row-close').click();
      await waitFinished(page);
      expect(await demo3.getAttribute('data-state')).toBe('closed');
      await shoot(page, '2-members-finished');
    });

    // ---- 3. producer-consumer -------------------------------------------------------------------

    it('producer-consumer: the queue chart ends at depth 1 (the 1.1 after the falsy value stays in the queue)', async () => {
      const page = await openApp();
      await startPreset(page, 'producer-consumer');
      await waitFinished(page);
      const queues = page.getByTestId('queue-legend');
      await expect.poll(() => queues.count(), { message: 'one queue in the chart' }).toBe(1);
      await expect.poll(() => queues.first().getAttribute('data-last-depth'), { message: 'the last depth is 1' }).toBe('1');
      await expect.poll(() => consoleTexts(page), { message: 'the consumer printed the truthy values before false' }).toEqual(['1', '0']);
      await shoot(page, '3-producer-consumer');
    });

    // ---- 4. export ------------------------------------------------------------------------------

    it('exports the run shown as a Chrome trace through a browser download', async () => {
      const page = await openApp();
      await startPreset(page, 'producer-consumer');
      await waitFinished(page);
      const pids = await rowPids(page);

      await page.getByTestId('export-button').click();
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: UI_TIMEOUT }), page.getByTestId('export-trace').click()]);
      expect(download.suggestedFilename()).toMatch(/producer-consumer.*\.trace\.json$/);
      const file = path.join(home, 'downloaded.trace.json');
      await download.saveAs(file);
      const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: { name: string; ph: string; pid: number; dur?: number; args?: { name?: string } }[] };
      expect(Array.isArray(trace.traceEvents)).toBe(true);
      for (const pid of pids) {
        const meta = trace.traceEvents.find((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === pid);
        expect(meta?.args?.name, `process_name metadata for pid ${pid}`).toMatch(new RegExp(`\\(${pid}\\)$`));
        const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.pid === pid);
        expect(slices.length, `a lifetime slice (X) for pid ${pid}`).toBeGreaterThan(0);
        expect(slices.every((s) => typeof s.dur === 'number' && s.dur >= 0)).toBe(true);
      }
      await expect.poll(() => page.getByTestId('export-status').textContent(), { message: 'the page says the download started' }).toContain('.trace.json');
      await shoot(page, '4-export-trace');
    });

    // ---- 4b. Python mode ----------------------------------------------------------------------

    it('Python mode: flash-sale as its Python original runs main + 10 buyers, 3 succeed, one lock lane, and the view says Python; a bogus interpreter fails to start in one line', async () => {
      const saved = (await backend.handle('settings.get', {})).python;
      try {
        const page = await openApp();
        const toggle = page.getByTestId('runtime-toggle');
        const interpreter = page.getByTestId('interpreter-input');
        expect(await toggle.getAttribute('data-runtime'), 'a fresh profile runs the TypeScript twin').toBe('typescript');
        expect(await interpreter.count(), 'no interpreter field for TypeScript').toBe(0);

        await page.getByTestId('preset-select').selectOption('flash-sale');
        await page.getByTestId('runtime-python').click();
        await expect.poll(() => toggle.getAttribute('data-runtime'), { message: 'the toggle switched to Python' }).toBe('python');
        await interpreter.waitFor({ timeout: UI_TIMEOUT });
        await expect.poll(() => interpreter.inputValue(), { message: "the field shows the engine's interpreter setting" }).toBe(saved);

        // The code that will run comes first, and is marked.
        await page.getByTestId('tab-code').click();
        await page.getByTestId('code-py-runs').waitFor({ timeout: UI_TIMEOUT });
        expect(await page.getByTestId('code-ts-runs').count(), 'only one version is marked').toBe(0);
        const order = await page.locator('[data-testid=code-py], [data-testid=code-ts]').evaluateAll((els) => els.map((e) => (e as unknown as PageElement).getAttribute('data-testid')));
        expect(order, 'the Python original comes first').toEqual(['code-py', 'code-ts']);

        await startPreset(page, 'flash-sale');
        await waitFinished(page);
        await expect.poll(() => rows(page).count(), { message: 'main + 10 buyers in the table' }).toBe(11);
        expect(await row(page, 'MainProcess').count(), "Python's main process").toBe(1);
        await expect.poll(() => attrs(rows(page), 'data-exitcode'), { message: 'every process exited with 0' }).toEqual(Array(11).fill('0'));

        const lines = page.locator('[data-testid=console-line]');
        await expect.poll(() => lines.filter({ hasText: '抢购成功' }).count(), { message: 'exactly 3 buyers got one of the 3 items' }).toBe(3);
        await expect.poll(() => lines.filter({ hasText: '抢购失败' }).count(), { message: 'the other 7 were told it is sold out' }).toBe(7);
        const lanes = page.getByTestId('lock-lane-data');
        await expect.poll(() => lanes.count(), { message: "one lock lane, from the shim's Lock" }).toBe(1);
        await expect.poll(async () => Number(await lanes.first().getAttribute('data-hold-count')), { message: '10 holds, one per buyer' }).toBe(10);

        const runtime = page.getByTestId('run-runtime');
        expect(await runtime.getAttribute('data-runtime'), 'the status line says the run was Python').toBe('python');
        expect(await runtime.textContent()).toContain('Python');
        expect(await page.getByTestId('run-interpreter').textContent(), 'and which interpreter ran it').toBe(path.basename(saved));
        await shoot(page, '4b-python-flash-sale');

        // History tags the run as Python.
        await page.getByTestId('history-button').click();
        const items = page.getByTestId('history-item');
        await items.first().waitFor({ timeout: UI_TIMEOUT });
        const pyRun = items.filter({ has: page.getByTestId('history-python') }).first();
        await pyRun.waitFor({ timeout: UI_TIMEOUT });
        expect(await pyRun.getAttribute('data-run-id'), 'the tagged run is the Python flash-sale').toContain('flash-sale-py');
        await page.keyboard.press('Escape');
        await page.getByTestId('history-item').first().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

        // The choice outlives a reload.
        await page.reload();
        await settled(page);
        await expect.poll(() => toggle.getAttribute('data-runtime'), { message: 'Python is still chosen after a reload' }).toBe('python');

        // An interpreter that does not exist: the engine saves the name, and Start says why it cannot run.
        const bogus = path.join(home, 'no-such-python');
        await interpreter.fill(bogus);
        await interpreter.press('Enter');
        await expect.poll(async () => (await backend.handle('settings.get', {})).python, { message: 'the interpreter is saved on Enter' }).toBe(bogus);
        await page.getByTestId('start-button').click();
        await expect.poll(() => phase(page), { timeout: RUN_TIMEOUT, message: 'the start fails' }).toBe('error');
        const reason = page.getByTestId('run-status').locator('.reason');
        const text = (await reason.textContent()) ?? '';
        expect(text, 'the error names the interpreter').toContain(bogus);
        expect(text, 'in one line').not.toMatch(/\n/);
        await shoot(page, '4b-python-bogus-interpreter');

        // Back to the real one: the error goes, and the setting is what it was.
        await interpreter.fill(saved);
        await interpreter.press('Enter');
        await expect.poll(async () => (await backend.handle('settings.get', {})).python, { message: 'the interpreter is set back' }).toBe(saved);
        await expect.poll(() => phase(page), { message: 'the start error is cleared' }).toBe('idle');
      } finally {
        await backend.handle('settings.set', { python: saved });
      }
    });

    // ---- 5. Chinese -----------------------------------------------------------------------------

    /**
     * Visible text of the window that should be in the page's language: everything in #app except
     * what is not ours to translate: process names, pids, program output, code and Python values.
     */
    async function visibleTexts(page: Page): Promise<{ text: string; program: boolean }[]> {
      const skip = [
        '[data-testid=console-line] .text', // program output
        '[data-testid=console-line] .who', // pid
        '.proc-name', // process names
        '.chip-name',
        '[data-testid=row-result] code', // Python values and errors
        '.method', // start() join()…
        '[data-testid=code-ts]',
        '[data-testid=code-py]',
        '[data-testid=run-interpreter]', // a command name: python3
        'option',
        'optgroup',
        'script',
        'style',
      ].join(', ');
      const texts = await page.evaluate((skipSel) => {
        const doc = (globalThis as unknown as { document: PageDocument }).document;
        const out: { text: string; program: boolean }[] = [];
        const app = doc.querySelector('#app');
        if (!app) return out;
        const walker = doc.createTreeWalker(app, 4 /* NodeFilter.SHOW_TEXT */);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = (n.textContent ?? '').trim();
          const el = n.parentElement;
          if (!text || !el || el.closest(skipSel)) continue;
          if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
          out.push({ text, program: false });
        }
        // A closed <select> shows its chosen option only: the program's title.
        const chosen = doc.querySelector('[data-testid=preset-select]')?.selectedOptions?.[0]?.textContent;
        if (chosen) out.push({ text: chosen.trim(), program: true });
        return out;
      }, skip);
      return texts;
    }

    /** Proper nouns, Python names and units that stay as they are in every language. */
    const ALLOWED = [
      /\bprocscope\b/g,
      /\b(pid|ppid|CPU|RSS|B|KiB|MiB|GiB|JSONL|CSV|JSON|Python|TypeScript|EN|MainProcess|None|True|False|SIGTERM|SIGKILL|ms|s)\b/g,
      /\b(Process|SpawnPoolWorker)-\d+\b/g,
      /\b(start|join|terminate|kill|close|is_alive)\b(\(\))?/g,
      // Keys are named as printed on them.
      /\b(W\/S|A\/D|Esc)\b/g,
    ];
    /** The tutorial's titles keep Python's class names as code: `用 Queue 实现…`, `Pool(5).map`. */
    const ALLOWED_IN_TITLES = [/\b(Process|Queue|Pool|Lock|map)\b/g];

    /** The strings that still hold words of English once the allowed ones are taken out. */
    function untranslated(texts: readonly { text: string; program: boolean }[]): string[] {
      return texts
        .filter(({ text, program }) => {
          let rest = text;
          for (const re of program ? [...ALLOWED, ...ALLOWED_IN_TITLES] : ALLOWED) rest = rest.replace(re, ' ');
          return /[A-Za-z]/.test(rest);
        })
        .map(({ text }) => text);
    }

    /** A new folder holding one program file `name` with `lines` (or a copy of `from`). */
    function programFile(name: string, content: { lines: string[] } | { from: string }): string {
      const file = path.join(fs.mkdtempSync(path.join(home, 'mine-')), name);
      if ('from' in content) fs.copyFileSync(content.from, file);
      else fs.writeFileSync(file, content.lines.join('\n'));
      return file;
    }

    /** Open… a file by its path (the browser shell's path field). */
    async function openPath(page: Page, file: string): Promise<void> {
      await page.getByTestId('open-button').click();
      await page.getByTestId('path-input').fill(file);
      await page.getByTestId('path-input').press('Enter');
    }

    it('Open… a .py file by path: its source shows in the code panel, it runs under Python, and its output reaches the console', async () => {
      const file = programFile('my_workers.py', {
        lines: [
          '# my own program',
          'import multiprocessing as mp',
          '',
          'def hi(n):',
          "    print('worker', n, 'says hi')",
          '',
          "if __name__ == '__main__':",
          '    ps = [mp.Process(target=hi, args=(n,)) for n in range(2)]',
          '    for p in ps:',
          '        p.start()',
          '    for p in ps:',
          '        p.join()',
          '',
        ],
      });
      const page = await openApp();
      await openPath(page, file);
      await page.getByTestId('tab-code').click();
      const code = page.getByTestId('code-custom');
      await code.waitFor({ timeout: UI_TIMEOUT });
      expect(await code.textContent()).toContain('# my own program');
      await page.getByTestId('code-custom-runs').waitFor({ timeout: UI_TIMEOUT });
      expect(await page.locator('.code-panel').textContent()).toContain('my_workers.py');
      expect(await page.getByTestId('runtime-toggle').getAttribute('data-runtime'), 'a .py file runs as Python').toBe('python');

      const stale = new Set(await rowPids(page));
      await page.getByTestId('start-button').click();
      await expect
        .poll(async () => (await rowPids(page)).filter((p) => !stale.has(p)).length, { timeout: RUN_TIMEOUT, message: 'main and its two workers appear' })
        .toBe(3);
      await waitFinished(page);
      await page.getByTestId('tab-console').click();
      await expect.poll(async () => (await consoleTexts(page)).sort(), { timeout: UI_TIMEOUT }).toEqual(['worker 0 says hi', 'worker 1 says hi']);

      // A path that is not a program: the panel says why, in one line.
      await openPath(page, path.join(path.dirname(file), 'notes.txt'));
      await page.getByTestId('tab-code').click();
      await page.getByTestId('code-source-error').waitFor({ timeout: UI_TIMEOUT });
      expect(await page.getByTestId('code-source-error').textContent()).toMatch(/not found|unsupported/);
    });

    it("Python: a Process object the program made is a row; start(), close() while running, terminate() + join() and close() from the row are Python's own", async () => {
      const file = programFile('waits_for_you.py', {
        lines: [
          'import multiprocessing as mp',
          'import time',
          '',
          'def work():',
          "    print('working', flush=True)",
          '    time.sleep(120)',
          '',
          "if __name__ == '__main__':",
          "    p = mp.Process(target=work, name='yours')",
          '    while True:  # until the window closes it',
          '        try:',
          '            p.exitcode',
          '        except ValueError:',
          '            break',
          '        time.sleep(0.05)',
          '',
        ],
      });
      const page = await openApp();
      await openPath(page, file);
      await page.getByTestId('start-button').click();
      const yours = row(page, 'yours');
      await expect.poll(() => yours.getAttribute('data-state'), { timeout: RUN_TIMEOUT, message: 'made, not started' }).toBe('created');

      await yours.getByTestId('row-start').click();
      await expect.poll(() => yours.getAttribute('data-state'), { timeout: UI_TIMEOUT, message: 'running after start()' }).toBe('running');
      await yours.getByTestId('row-close').click();
      const result = yours.getByTestId('row-result');
      await expect.poll(() => result.textContent(), { timeout: UI_TIMEOUT }).toContain('ValueError: Cannot close a process while it is still running');
      await yours.getByTestId('row-terminate').click();
      await yours.getByTestId('row-join').click();
      await expect.poll(() => yours.getAttribute('data-exitcode'), { timeout: UI_TIMEOUT, message: 'terminate() then join(): -15' }).toBe('-15');
      await yours.getByTestId('row-close').click();
      await waitFinished(page);
      expect(await yours.getAttribute('data-state')).toBe('closed');
      await page.getByTestId('tab-console').click();
      await expect.poll(() => consoleTexts(page), { timeout: UI_TIMEOUT }).toContain('working');
    });

    it('Stacks: a stuck Python program shows where each process waits (the consumer in q.get(), main in join()); Stop ends it', async () => {
      const file = programFile('stuck.py', { from: STUCK_PY });
      const page = await openApp();
      await openPath(page, file);
      await page.getByTestId('start-button').click();
      await page.getByTestId('tab-console').click();
      await expect.poll(() => consoleTexts(page), { timeout: RUN_TIMEOUT, message: 'the consumer waits' }).toContain('waiting');

      await page.getByTestId('tab-stacks').click();
      const consumerPid = Number(await row(page, 'consumer').getAttribute('data-pid'));
      const consumer = page.locator(`[data-testid=stacks-process][data-pid="${consumerPid}"]`);
      const inConsume = consumer.locator('[data-testid=stacks-frame][data-func=consume]');
      // The consumer may still be between its print and get(): capture until it is in get().
      await expect
        .poll(
          async () => {
            await page.getByTestId('stacks-capture').click();
            await consumer.waitFor({ timeout: UI_TIMEOUT });
            return inConsume.getAttribute('data-line');
          },
          { timeout: UI_TIMEOUT, message: "the consumer's own innermost frame is q.get(), line 8" },
        )
        .toBe('8');
      expect(await inConsume.textContent()).toContain('q.get()');
      const main = page.locator('[data-testid=stacks-process]', { hasText: 'MainProcess' });
      expect(await main.locator('[data-testid=stacks-frame][data-func="<module>"]').getAttribute('data-line')).toBe('15');
      await shoot(page, '4c-python-stacks');

      await page.getByTestId('stop-button').click();
      await expect.poll(() => phase(page), { timeout: RUN_TIMEOUT, message: 'the run stops' }).toBe('stopped');
      await expect.poll(() => page.getByTestId('stacks-capture').isDisabled(), { message: 'no stacks once the run has ended' }).toBe(true);
      expect(await page.getByTestId('stacks-disabled-reason').isVisible()).toBe(true);
    });

    it('in Chinese, no English is left in the main views (and the check does catch English)', async () => {
      const page = await openApp();
      await startPreset(page, 'producer-consumer');
      await waitFinished(page);

      // The same check on the English window must flag its words: it is able to fail.
      const english = untranslated(await visibleTexts(page));
      for (const word of ['Processes', 'Start', 'Queue depth (items)', 'Queue 1', 'unbounded', 'Console', 'State', 'exited']) {
        expect(english, `the check flags "${word}" in the English window`).toContain(word);
      }

      await page.getByTestId('lang-toggle').click();
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { lang: string } } }).document.documentElement.lang)).toBe('zh-CN');
      await expect.poll(async () => untranslated(await visibleTexts(page)), { message: 'English strings left in the Chinese window' }).toEqual([]);
      // And it is really Chinese, not empty.
      const zh = (await visibleTexts(page)).map(({ text }) => text);
      expect(zh).toContain('进程');
      expect(zh).toContain('队列深度（项）');
      await shoot(page, '5-chinese');
    });

    // ---- 6. history -----------------------------------------------------------------------------

    it('history: a past run opens as a replay with its own processes', async () => {
      const page = await openApp();
      await startPreset(page, 'producer-consumer');
      await waitFinished(page);
      const pastPids = await rowPids(page);
      // The consumer printed two lines; the console may show them a frame after the status.
      await expect.poll(() => consoleTexts(page), { timeout: UI_TIMEOUT, message: 'the run printed two lines' }).toHaveLength(2);
      const pastConsole = await consoleTexts(page);
      // Another run after it, so the replay has to bring the first one back.
      await startPreset(page, 'hello');
      await waitFinished(page);
      expect(await rowPids(page)).not.toEqual(pastPids);

      await page.getByTestId('history-button').click();
      const items = page.getByTestId('history-item');
      await items.first().waitFor({ timeout: UI_TIMEOUT });
      // Newest first: the first producer-consumer in the list is the run of this test.
      const runIds = await attrs(items, 'data-run-id');
      const index = runIds.findIndex((id) => id?.includes('producer-consumer'));
      expect(index, 'the producer-consumer run is listed').toBeGreaterThanOrEqual(0);
      await items.nth(index).click();

      await page.getByTestId('replay-badge').waitFor({ timeout: UI_TIMEOUT });
      await expect.poll(() => rowPids(page), { timeout: UI_TIMEOUT, message: 'the replay shows the processes of that run' }).toEqual(pastPids);
      await expect.poll(() => consoleTexts(page), { message: 'and its output' }).toEqual(pastConsole);
      expect(await phase(page)).toBe('finished');
      expect(await page.getByTestId('replay-badge').textContent()).toContain('Replay');
      // The toolbar names the run in view, not the one started last.
      expect(await page.getByTestId('preset-select').inputValue()).toBe('producer-consumer');
      // A replay is history: its rows cannot be controlled.
      expect(await rows(page).first().getByTestId('row-terminate').isDisabled()).toBe(true);
      await shoot(page, '6-history-replay');
    });

    // ---- 8. the window tells each story --------------------------------------------------------

    interface Box {
      x: number;
      y: number;
      width: number;
      height: number;
    }

    /** Waits for the page's web fonts (the bundled Chinese face loads its slices on demand). */
    async function fontsReady(page: Page): Promise<void> {
      await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready.then(() => undefined));
    }

    async function lessonBox(page: Page): Promise<{ box: Box; view: string | null; viewport: { width: number; height: number } }> {
      const lesson = page.getByTestId('lesson-view');
      await lesson.waitFor({ timeout: UI_TIMEOUT });
      const box = await lesson.boundingBox();
      expect(box, 'the lesson view is laid out').not.toBeNull();
      return { box: box as Box, view: await lesson.getAttribute('data-view'), viewport: page.viewportSize() ?? { width: 0, height: 0 } };
    }

    /** The page point over time `sec` of a chart, `dy` CSS px below its plot's top. */
    async function pointOn(page: Page, chart: string, sec: number, dy: number): Promise<{ x: number; y: number }> {
      const el = page.getByTestId(chart);
      const box = (await el.boundingBox()) as Box;
      const d = await el.evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
      const x0 = Number(d.xmin);
      const x1 = Number(d.xmax);
      expect(x1, `${chart} says its range`).toBeGreaterThan(x0);
      return { x: box.x + Number(d.plotLeft) + ((sec - x0) / (x1 - x0)) * Number(d.plotWidth), y: box.y + Number(d.plotTop) + dy };
    }

    /** Moves the pointer there and returns the tooltip's title once one shows. */
    async function tipAt(page: Page, p: { x: number; y: number }): Promise<string> {
      await page.mouse.move(p.x - 3, p.y);
      await page.mouse.move(p.x, p.y);
      const title = page.getByTestId('tooltip-title');
      await title.waitFor({ timeout: UI_TIMEOUT });
      return (await title.textContent()) ?? '';
    }

    it('the lesson view of every preset is whole on screen and at least 600 px wide after its run, at 1440x900 and at 1280x800', async () => {
      const page = await openApp();
      const presets = await backend.handle('presets.list', {});
      for (const p of presets) {
        await page.setViewportSize({ width: 1440, height: 900 });
        await startPreset(page, p.id);
        if (p.id === 'members') {
          // Its main waits until demo3 is closed from the window.
          const demo3 = row(page, 'demo3');
          await expect.poll(() => demo3.getAttribute('data-state'), { timeout: RUN_TIMEOUT }).toBe('created');
          await demo3.getByTestId('row-close').click();
        }
        await waitFinished(page);
        const declared = p.lesson;
        for (const size of [
          { width: 1440, height: 900 },
          { width: 1280, height: 800 },
        ]) {
          await page.setViewportSize(size);
          await expect
            .poll(
              async () => {
                const { box, view, viewport } = await lessonBox(page);
                return {
                  inside: box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height,
                  wide: box.width >= 600,
                  view,
                };
              },
              { timeout: UI_TIMEOUT, message: `${p.id} at ${size.width}x${size.height}: the lesson view is inside the viewport, 600 px wide or more, and is the one the preset declares` },
            )
            .toEqual({ inside: true, wide: true, view: declared });
        }
        // The verdict line: the engine's own reading of this run's log, word for word.
        const [latest] = await backend.handle('runs.list', {});
        const reader = new VerdictReader(p.verdict);
        for (const e of parseRunLogText(fs.readFileSync(latest.logPath, 'utf8')).events) reader.add(e);
        const expected = reader.result();
        expect(expected, `${p.id}: the run has a verdict`).not.toBeNull();
        const line = page.getByTestId('verdict');
        await expect.poll(() => line.textContent(), { timeout: UI_TIMEOUT, message: `${p.id}: the verdict line` }).toContain(expected?.text.en ?? '?');
        expect(await line.getAttribute('data-tone'), `${p.id}: its tone`).toBe(expected?.tone);
        await page.setViewportSize({ width: 1440, height: 900 });
        await shoot(page, `8-lesson-${p.id}`);
      }
    });

    it('tooltips name what is under the pointer: a process bar, a lock hold, a queue step, a CPU point; a click selects the process everywhere', async () => {
      const page = await openApp();
      await startPreset(page, 'flash-sale');
      await waitFinished(page);
      await fontsReady(page);
      const lane = page.getByTestId('lock-lane-data').first();
      const holds = JSON.parse((await lane.getAttribute('data-holds')) ?? '[]') as { pid: number; start: number; end: number }[];
      // The longest hold: several pixels wide whatever the run's length.
      const hold = [...holds].sort((a, b) => b.end - b.start - (a.end - a.start))[0];
      const holder = await rows(page).filter({ has: page.locator(`[data-pid="${hold.pid}"]`) }).count();
      expect(holder + 1, 'the holder is in the table').toBeGreaterThan(0);
      const name = (await page.locator(`[data-testid=process-row][data-pid="${hold.pid}"] .proc-name`).textContent()) ?? '';

      // The lock row (first row of the lane, 16 px high) at the middle of a hold.
      const onHold = await pointOn(page, 'chart-locks', (hold.start + hold.end) / 2000, 8);
      expect(await tipAt(page, onHold), 'the tooltip names the holder and the lock').toBe(`${name} (${hold.pid}) holds Lock 1`);
      await shoot(page, '8-tooltip-lock');

      // A click there selects the holder: the details pane, its table row, its console lines.
      await page.mouse.click(onHold.x, onHold.y);
      await expect.poll(() => page.getByTestId('details-title').textContent(), { message: 'the details pane shows the holder' }).toBe(`${name} (${hold.pid})`);
      await expect.poll(() => page.locator(`[data-testid=process-row][data-pid="${hold.pid}"]`).getAttribute('aria-selected'), { message: 'its table row is selected' }).toBe('true');
      const rowKey = await page.locator(`[data-testid=process-row][data-pid="${hold.pid}"]`).getAttribute('data-key');
      // Each chart redraws its gutter on its own frame: wait for it rather than read it once.
      await expect.poll(async () => (await page.locator(`[data-testid=lane-label][data-key$=":${rowKey}"]`).first().getAttribute('class')) ?? '', { message: 'its lane is marked' }).toContain('selected');
      await shoot(page, '8-details-process');

      // A bar of the timeline: the main process (first row, 18 px high).
      const main = await rows(page).first().getAttribute('data-pid');
      const timeline = page.getByTestId('chart-timeline');
      await timeline.scrollIntoViewIfNeeded();
      const d = await timeline.evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
      const mid = (Number(d.xmin) + Number(d.xmax)) / 2;
      expect(await tipAt(page, await pointOn(page, 'chart-timeline', mid, 9)), 'the timeline tooltip names the process').toBe(`MainProcess (${main})`);
      const tipText = (await page.getByTestId('chart-tooltip').textContent()) ?? '';
      expect(tipText, 'with its exit code').toContain('Exit code');

      // The CPU chart: the time, the total and the busiest processes.
      const cpu = page.getByTestId('chart-cpu');
      await cpu.scrollIntoViewIfNeeded();
      const c = await cpu.evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
      expect(await tipAt(page, await pointOn(page, 'chart-cpu', (Number(c.xmin) + Number(c.xmax)) / 2, 40)), 'the CPU tooltip says when').toMatch(/^\d+\.\d{3} s$/);
      expect((await page.getByTestId('chart-tooltip').textContent()) ?? '', 'and the total').toContain('Total');

      // A lock: click its name, see its figures.
      await page.locator('[data-testid=lane-label][data-key^="lock:"] .name').first().click();
      await expect.poll(() => page.getByTestId('details-title').textContent(), { message: 'the details pane shows the lock' }).toBe('Lock 1');
      expect((await page.getByTestId('details').textContent()) ?? '', 'with its holders in order').toContain('Holders in order (10)');
      await shoot(page, '8-details-lock');
    });

    it('a queue step has a tooltip (put or get, by whom, depth after); W zooms, A/D pan, 0 shows the whole run', async () => {
      const page = await openApp();
      await startPreset(page, 'bounded-queue');
      await waitFinished(page);
      const q = page.getByTestId('chart-queues');
      const d = await q.evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
      // Hover where the queue was busy, as the run's log says (a slow start can leave its puts and
      // gets in the last few percent of the axis, between the points of any fixed grid).
      const plotH = Number(d.plotHeight);
      const [latest] = await backend.handle('runs.list', {});
      const ops = parseRunLogText(fs.readFileSync(latest.logPath, 'utf8')).events.filter((e) => e.type === 'queue' && (e.op === 'put' || e.op === 'get'));
      expect(ops.length, 'the run put and got').toBeGreaterThan(0);
      const busy = [ops[0].t, (ops[0].t + ops[ops.length - 1].t) / 2, ops[ops.length - 1].t];
      // The first put can share its pixel with the queue's creation, whose step the tooltip may
      // name instead: look on until a put or a get is named.
      let title = '';
      let tip = '';
      for (let k = 0; k < 9 && !(title.startsWith('Queue 1') && /(put|get)\(\)/.test(tip)); k++) {
        const sec = busy[k % busy.length] / 1000 + (Number(d.xmax) - Number(d.xmin)) * 0.002 * k;
        await page.mouse.move(...Object.values(await pointOn(page, 'chart-queues', sec, plotH / 2)) as [number, number]);
        title = (await page.getByTestId('tooltip-title').textContent({ timeout: 2000 }).catch(() => null)) ?? '';
        tip = title ? ((await page.getByTestId('chart-tooltip').textContent()) ?? '') : '';
      }
      expect(title, 'a step of the queue has a tooltip').toBe('Queue 1');
      expect(tip, 'it names the operation').toMatch(/(put|get)\(\)/);
      expect(tip, 'and the depth after it').toContain('Depth after');
      await shoot(page, '8-tooltip-queue');

      await page.mouse.move(1, 1);
      const width = () => q.evaluate((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.xmax) - Number((e as unknown as { dataset: Record<string, string> }).dataset.xmin));
      // The whole run as shown now: `d` was read as the run finished, when the axis may not yet
      // have reached the run's last moment.
      const whole = await width();
      await page.keyboard.press('w');
      await page.getByTestId('zoom-range').waitFor({ timeout: UI_TIMEOUT });
      await expect.poll(width, { message: 'W zooms in' }).toBeLessThan(whole);
      const before = await q.evaluate((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.xmin));
      await page.keyboard.press('a');
      await expect.poll(() => q.evaluate((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.xmin)), { message: 'A pans earlier' }).toBeLessThan(before);
      await page.keyboard.press('0');
      await page.getByTestId('zoom-range').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    });

    it('sorting by CPU time puts the busiest process first; the filter keeps the matching ones; the totals count them all', async () => {
      const page = await openApp();
      await startPreset(page, 'pool-map');
      await waitFinished(page);
      const seconds = async () => (await attrs(rows(page), 'data-cpu-seconds')).map((s) => (s ? Number(s) : -1));
      await page.getByTestId('sort-cpuSeconds').click();
      await expect
        .poll(async () => {
          const s = await seconds();
          return s.length > 1 && s[0] === Math.max(...s) && s.every((v, i) => i === 0 || v <= s[i - 1]);
        }, { message: 'rows by CPU time, busiest first' })
        .toBe(true);
      expect(await page.getByTestId('sort-cpuSeconds').locator('..').getAttribute('aria-sort')).toBe('descending');
      const total = await rows(page).count();
      expect((await page.getByTestId('totals').textContent()) ?? '', 'the totals count every process').toContain(`${total} exited`);
      await shoot(page, '8-sorted-by-cpu-time');

      await page.getByTestId('process-filter').fill('PoolWorker');
      await expect.poll(async () => (await page.locator('[data-testid=process-row] .proc-name').allTextContents()).every((n) => n.includes('PoolWorker')), { message: 'only pool workers' }).toBe(true);
      await expect.poll(() => rows(page).count()).toBe(5);
      await page.getByTestId('process-filter').fill('');
      // Back to the tree: a third click on the header.
      await page.getByTestId('sort-cpuSeconds').click();
      await page.getByTestId('sort-cpuSeconds').click();
      await page.getByTestId('pool-row').waitFor({ timeout: UI_TIMEOUT });
    });

    it('compare: flash-sale above flash-sale-unlocked, both lanes on one time scale', async () => {
      const page = await openApp();
      await startPreset(page, 'flash-sale');
      await waitFinished(page);
      await startPreset(page, 'flash-sale-unlocked');
      await waitFinished(page);
      await page.getByTestId('history-button').click();
      const items = page.getByTestId('history-item');
      await items.first().waitFor({ timeout: UI_TIMEOUT });
      const ids = await attrs(items, 'data-run-id');
      const a = ids.findIndex((id) => /-flash-sale-[0-9a-f]+$/.test(id ?? ''));
      const b = ids.findIndex((id) => id?.includes('flash-sale-unlocked'));
      expect(a, 'the flash-sale run is listed').toBeGreaterThanOrEqual(0);
      expect(b, 'the flash-sale-unlocked run is listed').toBeGreaterThanOrEqual(0);
      await items.nth(a).getByTestId('history-pick').check();
      await items.nth(b).getByTestId('history-pick').check();
      await page.getByTestId('compare-button').click();
      const sides = page.getByTestId('compare-side');
      await expect.poll(() => sides.count(), { message: 'two runs, one above the other' }).toBe(2);
      expect(await sides.nth(0).getAttribute('data-run-id')).toBe(ids[a]);
      expect(await sides.nth(1).getAttribute('data-run-id')).toBe(ids[b]);
      // A has its lock lane, B its buyers' lifetimes (it has no lock: that is its lesson).
      await expect.poll(() => sides.nth(0).getByTestId('lock-lane-data').getAttribute('data-hold-count'), { timeout: UI_TIMEOUT, message: "A's lock lane with its 10 holds" }).toBe('10');
      await expect.poll(() => sides.nth(1).locator('[data-testid=chart-timeline] [data-testid=lane-label]').count(), { message: "B's lanes: main and 10 buyers" }).toBe(11);
      // What differs, as the engine's run digest says: the lock only A has, the same process count.
      const table = page.getByTestId('compare-table');
      await table.waitFor({ timeout: UI_TIMEOUT });
      const cell = async (key: string) => {
        const r = table.locator(`[data-testid=compare-row][data-key="${key}"]`);
        return { a: (await r.locator('td').nth(0).textContent())?.trim(), b: (await r.locator('td').nth(1).textContent())?.trim(), differs: await r.getAttribute('data-differs') };
      };
      expect(await cell('processes'), 'both runs have main and 10 buyers').toEqual({ a: '11', b: '11', differs: 'false' });
      expect(await cell('lock.1.acquisitions'), 'A took its lock 10 times; B has none').toEqual({ a: '10', b: '—', differs: 'true' });
      const range = (i: number) => sides.nth(i).getByTestId('chart-timeline').evaluate((e) => `${(e as unknown as { dataset: Record<string, string> }).dataset.xmin}..${(e as unknown as { dataset: Record<string, string> }).dataset.xmax}`);
      expect(await range(0), 'the same time scale above and below').toBe(await range(1));
      await shoot(page, '8-compare');
      await page.getByTestId('compare-close').click();
      await page.getByTestId('lesson-view').waitFor({ timeout: UI_TIMEOUT });
    });

    it('status tells the truth: a main killed by SIGKILL is not green; no exit code reads None; the page logs no CSP violation', async () => {
      const page = await openApp();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      await page.addInitScript(() => {
        (globalThis as unknown as { addEventListener(t: string, f: (e: { violatedDirective: string }) => void): void }).addEventListener('securitypolicyviolation', (e) =>
          console.error(`Refused to apply ${e.violatedDirective} (Content Security Policy)`),
        );
      });
      await page.reload();
      await settled(page);
      await startPreset(page, 'hello');
      await waitFinished(page);
      const file = programFile('stuck.py', { from: STUCK_PY });
      await openPath(page, file);
      await page.getByTestId('start-button').click();
      const mainRow = row(page, 'MainProcess');
      await expect.poll(() => mainRow.getAttribute('data-state'), { timeout: RUN_TIMEOUT, message: 'the stuck program runs' }).toBe('running');
      for (const pid of await rowPids(page)) seenPids.add(pid);
      await mainRow.getByTestId('row-kill').click();
      await expect.poll(() => page.getByTestId('run-status').getAttribute('data-outcome'), { timeout: RUN_TIMEOUT, message: 'the pill says the main was killed' }).toBe('status.killed');
      const pill = page.getByTestId('run-status');
      expect(await pill.getAttribute('class'), 'in red, not green').toContain('phase-error');
      expect(await pill.textContent()).toContain('SIGKILL');
      expect(await page.getByTestId('main-exit').textContent()).toContain('-9 (SIGKILL)');
      const exitTexts = await page.getByTestId('row-exitcode').allTextContents();
      expect(exitTexts.filter((s) => /None/.test(s)), 'no exit code cell says None').toEqual([]);
      expect((await page.getByTestId('status-line-main').textContent()) ?? '', 'nor the status line').not.toMatch(/None/);
      await shoot(page, '8-main-killed');
      expect(violations, 'CSP violations logged by the page').toEqual([]);
    });

    it('Chinese renders with the bundled face on a machine without CJK fonts: glyphs, not boxes', async () => {
      const page = await openApp();
      await startPreset(page, 'flash-sale');
      await waitFinished(page);
      await page.getByTestId('lang-toggle').click();
      await expect.poll(() => page.locator('#processes-title').textContent()).toBe('进程');
      await fontsReady(page);
      const probe = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: {
            fonts: { check(font: string, text: string): boolean };
            createElement(t: 'canvas'): { width: number; height: number; getContext(c: '2d'): { font: string; fillText(s: string, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
            body: unknown;
          };
          getComputedStyle(e: unknown): { fontFamily: string };
        };
        const family = g.getComputedStyle(g.document.body).fontFamily;
        // Two different characters: real glyphs differ, the missing-glyph box is the same for both.
        const draw = (ch: string) => {
          const c = g.document.createElement('canvas');
          c.width = 40;
          c.height = 40;
          const ctx = c.getContext('2d');
          ctx.font = `28px ${family}`;
          ctx.fillText(ch, 4, 32);
          return Array.from(ctx.getImageData(0, 0, 40, 40).data).join(',');
        };
        return { loaded: g.document.fonts.check('16px "Noto Sans SC"', '进程'), differ: draw('进') !== draw('程') };
      });
      expect(probe.loaded, 'the Noto Sans SC face is loaded for the text on screen').toBe(true);
      expect(probe.differ, 'two Chinese characters draw differently (not the same box)').toBe(true);
      await shoot(page, '8-chinese-glyphs');
    });

    it('screenshots of every view, light and dark, English and Chinese, for a person to look at', async () => {
      const page = await openApp();
      for (const id of ['flash-sale', 'join-in-loop-wrong', 'bounded-queue', 'pool-map']) {
        await startPreset(page, id);
        await waitFinished(page);
      }
      for (const lang of ['en', 'zh'] as const) {
        for (const scheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          if ((await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { lang: string } } }).document.documentElement.lang)) !== (lang === 'zh' ? 'zh-CN' : 'en')) {
            await page.getByTestId('lang-toggle').click();
          }
          for (const id of ['flash-sale', 'join-in-loop-wrong', 'bounded-queue', 'pool-map']) {
            await page.getByTestId('history-button').click();
            const items = page.getByTestId('history-item');
            await items.first().waitFor({ timeout: UI_TIMEOUT });
            const ids = await attrs(items, 'data-run-id');
            await items.nth(ids.findIndex((r) => new RegExp(`-${id}-[0-9a-f]+$`).test(r ?? ''))).click();
            await page.getByTestId('replay-badge').waitFor({ timeout: UI_TIMEOUT });
            await expect.poll(() => phase(page), { timeout: UI_TIMEOUT }).toBe('finished');
            // The view shows the run it names: its processes and its verdict are in.
            expect(await rows(page).count(), `${id}: the replay's processes are shown with its end`).toBeGreaterThan(0);
            await page.getByTestId('verdict').waitFor({ timeout: UI_TIMEOUT });
            await fontsReady(page);
            await shoot(page, `9-${id}-${scheme}-${lang}`);
          }
          await page.getByTestId('history-button').click();
          await page.getByTestId('history-item').first().waitFor({ timeout: UI_TIMEOUT });
          await shoot(page, `9-history-${scheme}-${lang}`);
          await page.keyboard.press('Escape');
        }
      }
    });

    // ---- the README's picture ---------------------------------------------------------------------

    // Not part of the suite; makes docs/screenshot.png:
    //   PROCSCOPE_README_SCREENSHOT=docs/screenshot.png npx vitest run -c vitest.e2e.config.ts -t README
    // The window as a run leaves it: the lock lanes first, the console beside them, the table below.
    const readmeShot = process.env.PROCSCOPE_README_SCREENSHOT;
    it.runIf(readmeShot !== undefined)('README screenshot: flash-sale finished, English, light, 1440x900', async () => {
      const page = await openApp({ colorScheme: 'light' });
      await startPreset(page, 'flash-sale');
      await waitFinished(page);
      await expect.poll(() => page.getByTestId('lock-lane-data').getAttribute('data-hold-count')).toBe('10');
      await page.mouse.move(1, 1);
      await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready.then(() => undefined));
      const file = path.resolve(root, readmeShot as string);
      await page.screenshot({ path: file });
      expect(fs.statSync(file).size, 'the README picture stays small').toBeLessThan(400 * 1024);
    });

    // ---- 7. security ----------------------------------------------------------------------------

    it('security: the page without its token gets 403, and a WebSocket from another origin is refused', async () => {
      // A browser that never saw the link: no token, no cookie.
      const stranger = await browser.newContext();
      try {
        const res = await (await stranger.newPage()).goto(`${origin}/`);
        expect(res?.status(), 'the app without the token').toBe(403);
      } finally {
        await stranger.close();
      }

      // A browser that has the cookie (it opened the link) also visits another local page.
      const page = await openApp();
      const foreign = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
      await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
      try {
        const foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`;
        const wsUrl = `${origin.replace('http', 'ws')}/ws`;
        const tryWebSocket = (p: Page, protocols: string[]) =>
          p.evaluate(
            ([url, protos]) =>
              new Promise<string>((resolve) => {
                const WS = (globalThis as unknown as { WebSocket: new (u: string, p: string[]) => PageWebSocket }).WebSocket;
                const ws = new WS(url, protos);
                ws.onopen = () => {
                  ws.close();
                  resolve('open');
                };
                ws.onclose = (e) => resolve(`closed ${e.code}`);
              }),
            [wsUrl, protocols] as const,
          );

        // The control: from the app's own origin the same socket opens, so a refusal below is real.
        expect(await tryWebSocket(page, ['procscope']), 'the app page itself connects').toBe('open');

        const other = await page.context().newPage();
        // Same site for cookies (127.0.0.1, another port), so the cookie goes along: Origin decides.
        await other.goto(foreignUrl);
        expect(await tryWebSocket(other, ['procscope']), 'from another local origin, with the cookie').toMatch(/^closed/);
        expect(await tryWebSocket(other, ['procscope', `token.${shell.token}`]), 'even offering the token').toMatch(/^closed/);
        // A page with an opaque origin (Origin: null).
        await other.goto('data:text/html,<title>data</title>');
        expect(await tryWebSocket(other, ['procscope']), 'from a data: page').toMatch(/^closed/);
        await other.close();
      } finally {
        await new Promise<void>((resolve) => foreign.close(() => resolve()));
      }
      await shoot(page, '7-security');
    });
  });
}
