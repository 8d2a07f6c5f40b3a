// The Profile tab end to end, in Chromium at 1440x900 against the real web shell and real
// processes: a profiled pool-map run draws a flame graph; a range dragged on a chart changes it;
// the search highlights what matches; a click on a box opens its line in the Code view; the waits
// of a stuck program name its q.get() line. Screenshots (light and dark, English and Chinese) go
// to .tmp/e2e-screens/profile-*.png for a person to look at. Waits are on what the page shows.

import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src-main/core/backend.ts';
import type { WebShell } from '../../src-main/web/server.ts';
import { startE2eShell } from './shell.ts';
import { STUCK_PY } from '../helpers/fixtures.ts';

const root = path.resolve(import.meta.dirname, '../..');
const screensDir = path.join(root, '.tmp', 'e2e-screens');
const chromiumPath = process.env.PROCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const RUN_TIMEOUT = 90_000;
const UI_TIMEOUT = 20_000;

interface Box {
  name: string;
  file: string;
  line: number;
  x: number;
  y: number;
  w: number;
  h: number;
  total: number;
  self: number;
  matched: boolean;
}

const reason = fs.existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath} (apt-get install chromium, or set PROCSCOPE_CHROMIUM)`;

describe.skipIf(reason !== null)(`the Profile tab (end to end)${reason ? `: skipped, ${reason}` : ''}`, () => {
  let home: string;
  let backend: Backend;
  let shell: WebShell;
  let browser: Browser;
  let current: BrowserContext | null = null;

  beforeAll(async () => {
    ({ home, backend, shell } = await startE2eShell('procscope-e2e-profile-'));
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
    fs.mkdirSync(screensDir, { recursive: true });
  });

  afterEach(async () => {
    await current?.close();
    current = null;
    await backend.handle('run.stop', {});
  });

  afterAll(async () => {
    await browser?.close();
    await shell?.close();
    await backend?.dispose();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  async function openApp(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    current = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', colorScheme });
    const page = await current.newPage();
    await page.goto(shell.url);
    await page.locator('[data-testid=preset-select] option[value="pool-map"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    return page;
  }

  async function shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(screensDir, `profile-${name}.png`) });
  }

  async function boxes(page: Page): Promise<Box[]> {
    return JSON.parse((await page.getByTestId('flame-boxes').textContent()) ?? '[]') as Box[];
  }

  async function profileOn(page: Page): Promise<void> {
    const toggle = page.getByTestId('profile-toggle');
    if ((await toggle.getAttribute('aria-checked')) !== 'true') await toggle.click();
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
  }

  /** Starts the chosen program and waits for its end. */
  async function runToEnd(page: Page): Promise<void> {
    await page.getByTestId('start-button').click();
    await expect
      .poll(() => page.getByTestId('run-status').getAttribute('data-phase'), { timeout: RUN_TIMEOUT, message: 'the run ends' })
      .toBe('finished');
  }

  async function total(page: Page): Promise<string> {
    return (await page.getByTestId('profile-total').textContent()) ?? '';
  }

  it('pool-map, profiled: the flame graph, a range that changes it, search, and a click that opens the line', async () => {
    const page = await openApp();
    await page.getByTestId('preset-select').selectOption('pool-map');
    await page.getByTestId('runtime-python').click();
    await profileOn(page);
    await runToEnd(page);

    await page.getByTestId('tab-profile').click();
    // Wall-clock time: every thread of every process, the waits included.
    await page.getByTestId('profile-wall').click();
    await expect.poll(async () => (await boxes(page)).length, { timeout: UI_TIMEOUT, message: 'the flame graph has boxes' }).toBeGreaterThan(3);
    const all = await boxes(page);
    expect(all.some((b) => b.name === '<module>' && b.file.endsWith('pool-map.py')), 'the main script is in the graph').toBe(true);
    const whole = await total(page);
    await shoot(page, 'flame-light-en');

    // A range dragged on the process lifetimes: the profile sums only the samples in it. Of two
    // ranges that do not overlap, at most one holds every sample: one of them changes the total.
    const over = page.locator('[data-testid=chart-timeline] .u-over');
    await over.scrollIntoViewIfNeeded();
    const r = (await over.boundingBox()) as { x: number; y: number; width: number; height: number };
    let changed = false;
    for (const [from, to] of [
      [0.05, 0.6],
      [0.62, 0.97],
    ]) {
      await page.keyboard.press('0'); // the whole run again, so every drag starts from it
      await page.mouse.move(r.x + r.width * from, r.y + r.height / 2);
      await page.mouse.down();
      await page.mouse.move(r.x + r.width * to, r.y + r.height / 2, { steps: 8 });
      await page.mouse.up();
      await expect.poll(() => page.getByTestId('profile-range').isVisible(), { timeout: UI_TIMEOUT, message: 'the tab says the range' }).toBe(true);
      if ((await total(page)) !== whole) {
        changed = true;
        break;
      }
    }
    expect(changed, 'a range changes the total').toBe(true);
    await shoot(page, 'flame-range');
    await page.getByTestId('profile-range').getByRole('button').click();
    await expect.poll(() => total(page), { message: 'back to the whole run' }).toBe(whole);

    // Search: what matches keeps its color, the rest is dimmed, and the tab says how much it is.
    await page.getByTestId('profile-search').fill('pool');
    await expect.poll(async () => (await boxes(page)).some((b) => b.matched), { message: 'boxes match the search' }).toBe(true);
    expect((await boxes(page)).filter((b) => b.matched).every((b) => /pool/i.test(b.name) || /pool/i.test(b.file))).toBe(true);
    await expect.poll(() => page.getByTestId('profile-found').isVisible()).toBe(true);
    await shoot(page, 'flame-search');
    await page.getByTestId('profile-search').fill('');

    // Hover names the box; a click opens its line in the Code view.
    const target = (await boxes(page)).find((b) => b.name === '<module>' && b.file.endsWith('pool-map.py')) as Box;
    const canvas = (await page.locator('[data-testid=flame] canvas').boundingBox()) as { x: number; y: number };
    await page.mouse.move(canvas.x + target.x + Math.min(target.w / 2, 40), canvas.y + target.y + target.h / 2);
    await expect.poll(() => page.getByTestId('flame-tip').textContent(), { message: 'a tooltip names the box' }).toContain('<module>');
    await shoot(page, 'flame-hover');
    await page.mouse.click(canvas.x + target.x + Math.min(target.w / 2, 40), canvas.y + target.y + target.h / 2);
    await expect.poll(() => page.getByTestId('tab-code').getAttribute('aria-selected'), { message: 'the Code tab opens' }).toBe('true');
    const marked = page.locator('[data-testid=code-focus] .line.hl');
    await expect.poll(() => marked.getAttribute('data-line'), { timeout: UI_TIMEOUT, message: 'the line of the box is marked' }).toBe(String(target.line));
    const source = fs.readFileSync(path.join(root, 'src-main/presets/python/pool-map.py'), 'utf8').split('\n');
    expect((await marked.textContent())?.trim()).toContain(source[target.line - 1].trim());
    await shoot(page, 'code-line');
  });

  it("a stuck consumer's wait names its q.get() line; the tab in the dark scheme and in Chinese", async () => {
    const page = await openApp('dark');
    // Started as any shell starts a run: the page follows it.
    await backend.handle('run.start', { scenario: STUCK_PY, profile: { hz: 100 } });
    // …and its toolbar names that program, not the one it had picked.
    await expect.poll(() => page.getByTestId('preset-select').inputValue(), { timeout: RUN_TIMEOUT, message: 'the toolbar names the run it follows' }).toBe(STUCK_PY);
    await page.getByTestId('tab-profile').click();
    await page.getByTestId('profile-view-waits').click();
    const table = page.getByTestId('wait-sites');
    const getLine = fs.readFileSync(STUCK_PY, 'utf8').split('\n').findIndex((l) => l.includes('q.get()')) + 1;
    await expect
      .poll(() => table.textContent(), { timeout: RUN_TIMEOUT, message: 'the stuck get is in the table while it is stuck' })
      .toContain(`stuck_consumer.py:${getLine}`);
    // main's join of the consumer, and the consumer's get.
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: UI_TIMEOUT }).toBe(2);
    await shoot(page, 'waits-dark-en');
    await page.getByTestId('lang-toggle').click();
    await expect.poll(() => page.getByTestId('profile-view-waits').textContent()).toContain('等待');
    await shoot(page, 'waits-dark-zh');
    await page.getByTestId('profile-view-flame').click();
    // A stuck program hardly runs: its wall-clock time shows where it waits.
    await page.getByTestId('profile-wall').click();
    await expect.poll(async () => (await boxes(page)).length, { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
    await shoot(page, 'flame-dark-zh');
    await page.getByTestId('profile-view-top').click();
    await expect.poll(() => page.getByTestId('top-functions').locator('tbody tr').count()).toBeGreaterThan(0);
    await shoot(page, 'top-dark-zh');
    await backend.handle('run.stop', {});
  });
});
