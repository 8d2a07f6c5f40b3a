// The Electron shell's security decisions (src-main/electron/policy.ts), without Electron: which
// URL is our page, which links may leave for the browser, how errors cross IPC.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorData, externalUrlToOpen, isRendererUrl, saveFilters, SCENARIO_EXTENSIONS } from '../../src-main/electron/policy.ts';

const rendererFile = path.resolve('/opt/procscope/out/renderer/index.html');
const rendererUrl = pathToFileURL(rendererFile).href;

describe('isRendererUrl: only our page is our page', () => {
  it('accepts the renderer file URL, with or without a query or fragment', () => {
    expect(isRendererUrl(rendererUrl, rendererFile)).toBe(true);
    expect(isRendererUrl(`${rendererUrl}#/runs`, rendererFile)).toBe(true);
    expect(isRendererUrl(`${rendererUrl}?lang=zh`, rendererFile)).toBe(true);
  });

  it('refuses look-alikes that a prefix test would let through', () => {
    expect(isRendererUrl(`${rendererUrl}.evil.html`, rendererFile)).toBe(false);
    expect(isRendererUrl(pathToFileURL(path.resolve('/opt/procscope/out/renderer/other.html')).href, rendererFile)).toBe(false);
    expect(isRendererUrl(rendererUrl.replace('/out/renderer/', '/out/renderer/../renderer2/'), rendererFile)).toBe(false);
  });

  it('refuses other schemes, remote file hosts and garbage', () => {
    expect(isRendererUrl(rendererUrl.replace('file:', 'https:'), rendererFile)).toBe(false);
    expect(isRendererUrl(rendererUrl.replace('file:///', 'file://attacker.example/'), rendererFile)).toBe(false);
    expect(isRendererUrl('about:blank', rendererFile)).toBe(false);
    expect(isRendererUrl('devtools://devtools/bundled/inspector.html', rendererFile)).toBe(false);
    expect(isRendererUrl('not a url', rendererFile)).toBe(false);
    expect(isRendererUrl('', rendererFile)).toBe(false);
  });

  it('sees through percent-encoding and dot segments to the real path', () => {
    const dotted = rendererUrl.replace('/out/renderer/', '/out/x/../renderer/');
    expect(isRendererUrl(dotted, rendererFile)).toBe(true);
    expect(isRendererUrl(rendererUrl.replace('index.html', '%69ndex.html'), rendererFile)).toBe(true);
  });
});

describe('externalUrlToOpen: links that may open in the browser', () => {
  it('opens https links to allowlisted hosts', () => {
    expect(externalUrlToOpen('https://ui.perfetto.dev/')).toBe('https://ui.perfetto.dev/');
    expect(externalUrlToOpen('https://ui.perfetto.dev/#!/viewer')).toBe('https://ui.perfetto.dev/#!/viewer');
    expect(externalUrlToOpen('https://docs.python.org/3/library/multiprocessing.html')).toBe(
      'https://docs.python.org/3/library/multiprocessing.html',
    );
  });

  it('refuses http, other schemes and protocol handlers', () => {
    expect(externalUrlToOpen('http://ui.perfetto.dev/')).toBeNull();
    expect(externalUrlToOpen('file:///etc/passwd')).toBeNull();
    expect(externalUrlToOpen('javascript:alert(1)')).toBeNull();
    expect(externalUrlToOpen('smb://ui.perfetto.dev/share')).toBeNull();
    expect(externalUrlToOpen('ms-msdt:/id PCWDiagnostic')).toBeNull();
    expect(externalUrlToOpen('')).toBeNull();
  });

  it('refuses other hosts, look-alike hosts, credentials and ports', () => {
    expect(externalUrlToOpen('https://example.com/')).toBeNull();
    expect(externalUrlToOpen('https://ui.perfetto.dev.attacker.example/')).toBeNull();
    expect(externalUrlToOpen('https://attacker.example/ui.perfetto.dev')).toBeNull();
    expect(externalUrlToOpen('https://ui.perfetto.dev@attacker.example/')).toBeNull();
    expect(externalUrlToOpen('https://user:pw@ui.perfetto.dev/')).toBeNull();
    expect(externalUrlToOpen('https://ui.perfetto.dev:8443/')).toBeNull();
  });
});

describe('errorData: errors cross IPC as data', () => {
  it('keeps the name and message of an Error, and nothing else', () => {
    class ControlError extends Error {
      override name = 'ControlError';
      secret = 'not for the page';
    }
    expect(errorData(new ControlError('cannot join a process that was not started'))).toEqual({
      name: 'ControlError',
      message: 'cannot join a process that was not started',
    });
  });

  it('turns anything thrown into a plain Error-like value', () => {
    expect(errorData('boom')).toEqual({ name: 'Error', message: 'boom' });
    expect(errorData(42)).toEqual({ name: 'Error', message: '42' });
    expect(errorData(undefined)).toEqual({ name: 'Error', message: 'undefined' });
  });
});

describe('dialog filters', () => {
  it('offers the export format the engine suggested', () => {
    expect(saveFilters('run-1.csv')).toEqual([{ name: 'CSV', extensions: ['csv'] }]);
    expect(saveFilters('run-1.trace.json')).toEqual([{ name: 'Chrome trace (JSON)', extensions: ['json'] }]);
    expect(saveFilters('run-1.jsonl')).toEqual([{ name: 'Run log (JSON lines)', extensions: ['jsonl'] }]);
    expect(saveFilters('no-extension')).toEqual([]);
  });

  it('opens the scenario kinds the loader runs', () => {
    expect([...SCENARIO_EXTENSIONS].sort()).toEqual(['js', 'mjs', 'mts', 'py', 'ts']);
  });
});
