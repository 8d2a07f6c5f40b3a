// The Electron shell against Electron's security checklist, statically (no Electron binary needed):
// - Doyensec's electronegativity finds no HIGH or MEDIUM issue in src-main/electron, and does find
//   them in a deliberately insecure fixture (so a pass means something);
// - the window keeps sandbox, context isolation and no Node integration, and its CSP is pinned;
// - the preload never hands ipcRenderer (or any channel but ours) to the page, and imports nothing
//   a sandboxed preload cannot load.
// Each structural check is also run on a bad snippet, to show that it can fail.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const electronDir = path.join(root, 'src-main/electron');
const insecureFixture = path.join(root, 'test/fixtures/electron-insecure');

// ---------------------------------------------------------------------------------------------
// electronegativity

interface Level {
  value: number;
  name: string;
}
interface Issue {
  file: string;
  id: string;
  description: string;
  location: { line: number; column: number };
  severity: Level;
  confidence: Level;
  manualReview: boolean;
  sample?: string;
}
interface ScanResult {
  issues: Issue[];
  errors: { file: string; message: string; tolerable: boolean }[];
}
type Scan = (options: Record<string, unknown>) => Promise<ScanResult>;

const electronVersion = (JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;

/**
 * Runs electronegativity as `electronegativity -i DIR -e <our electron version> -x ...`.
 * Excluded, for the whole scan: AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK. It downloads Electron's
 * release list from GitHub: offline it only waits for a timeout, online its answer changes with
 * every Electron release, so a unit test cannot depend on it. "Use a current Electron" (checklist
 * item 16) is kept by updating the pinned devDependency, not by this test.
 */
async function scan(input: string): Promise<ScanResult> {
  const run = require('@doyensec/electronegativity') as Scan;
  return run({
    input,
    electronVersionOverride: electronVersion,
    excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
    isRelative: true,
    parserPlugins: [],
  });
}

const serious = (issues: Issue[]) => issues.filter((i) => i.severity.name === 'HIGH' || i.severity.name === 'MEDIUM');
const describeIssue = (i: Issue) =>
  `${i.id} ${i.severity.name}/${i.confidence.name} at ${i.file}:${i.location.line}:${i.location.column}: ${i.description}`;

describe('electronegativity', () => {
  // One scan of our sources for the assertions below (a scan takes a few seconds).
  let ours: ScanResult;
  beforeAll(async () => {
    ours = await scan(electronDir);
  });

  it(`finds no HIGH or MEDIUM issue in src-main/electron (as Electron ${electronVersion})`, () => {
    // A file it could not parse is a file it did not check: that must fail, not pass quietly.
    expect(ours.errors.filter((e) => !e.tolerable), 'files electronegativity could not parse').toEqual([]);
    expect(serious(ours.issues).map(describeIssue), 'HIGH/MEDIUM findings (fix them, or disable one inline with a reason)').toEqual([]);
  });

  it('finds the CSP header in main.ts (no "No CSP has been detected")', () => {
    expect(ours.issues.filter((i) => i.id === 'CSP_GLOBAL_CHECK' && i.file === 'N/A').map(describeIssue)).toEqual([]);
  });

  it('every inline exclusion in main.ts still sits on a line its check flags', async () => {
    // Each `eng-disable` is a reviewed decision about one line; one that no longer matches a
    // finding hides nothing and misleads the reader (and a new finding on another line is not hidden).
    const file = path.join(electronDir, 'main.ts');
    const disabled = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const m = /eng-disable\s+([A-Z_]+)/.exec(line);
        return m ? [{ id: m[1], line: i + 1 }] : [];
      });
    expect(disabled.map((d) => d.id).sort()).toEqual(['OPEN_EXTERNAL_JS_CHECK', 'PRELOAD_JS_CHECK']);
    const unfiltered = await scanWithoutInlineExclusions(file);
    for (const d of disabled) {
      expect(unfiltered.some((i) => i.id === d.id && i.location.line === d.line), `${d.id} is flagged at main.ts:${d.line}`).toBe(true);
    }
  });

  it('can fail: flags the insecure fixture (nodeIntegration: true, no context isolation, no sandbox)', async () => {
    const result = await scan(insecureFixture);
    expect(result.errors.filter((e) => !e.tolerable)).toEqual([]);
    // electronegativity 1.10.3 reports an explicit `nodeIntegration: true` as INFORMATIONAL only
    // (HIGH is kept for Electron < 5, where it was the default), and not at all when the same
    // window also says `sandbox: false`. So the severity gate alone would not stop Node
    // integration: the webPreferences check below is the guard for it.
    const all = result.issues.map((i) => `${i.id}@${i.location.line}`);
    expect(all).toContain('NODE_INTEGRATION_JS_CHECK@11');
    const ids = serious(result.issues).map((i) => i.id);
    expect(ids).toContain('CONTEXT_ISOLATION_JS_CHECK');
    expect(ids).toContain('SANDBOX_JS_CHECK');
    expect(ids).toContain('HTTP_RESOURCES_WITH_NODE_INTEGRATION_GLOBAL_CHECK');
  });
});

/** The same scan of one file with its `eng-disable` comments stripped (in a temp copy). */
async function scanWithoutInlineExclusions(file: string): Promise<Issue[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-eng-'));
  try {
    const text = fs.readFileSync(file, 'utf8').replace(/eng-disable/g, 'eng-reviewed');
    fs.writeFileSync(path.join(dir, path.basename(file)), text);
    return (await scan(dir)).issues;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Structural checks with the TypeScript parser

function parse(file: string, text = fs.readFileSync(file, 'utf8')): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

function propName(p: ts.ObjectLiteralElementLike): string | null {
  if (!p.name) return null;
  if (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) return p.name.text;
  return null;
}

const REQUIRED_PREFERENCES: Record<string, 'true' | 'false'> = {
  contextIsolation: 'true',
  sandbox: 'true',
  nodeIntegration: 'false',
  nodeIntegrationInWorker: 'false',
  webSecurity: 'true',
  allowRunningInsecureContent: 'false',
  experimentalFeatures: 'false',
  webviewTag: 'false',
};

/** What is wrong with every `new BrowserWindow(...)`'s webPreferences in `source`. */
function webPreferenceViolations(source: ts.SourceFile): string[] {
  const found: string[] = [];
  let windows = 0;
  walk(source, (n) => {
    if (!ts.isNewExpression(n) || n.expression.getText(source) !== 'BrowserWindow') return;
    windows++;
    const options = n.arguments?.[0];
    if (!options || !ts.isObjectLiteralExpression(options)) return void found.push('BrowserWindow options are not an object literal');
    const prefsProp = options.properties.find((p) => propName(p) === 'webPreferences');
    if (!prefsProp || !ts.isPropertyAssignment(prefsProp) || !ts.isObjectLiteralExpression(prefsProp.initializer)) {
      return void found.push('webPreferences is not an object literal');
    }
    const prefs = prefsProp.initializer;
    // A spread could override any of the settings below at run time.
    if (prefs.properties.some((p) => ts.isSpreadAssignment(p))) found.push('webPreferences contains a spread');
    for (const [name, want] of Object.entries(REQUIRED_PREFERENCES)) {
      const p = prefs.properties.filter((q) => propName(q) === name);
      if (p.length !== 1 || !ts.isPropertyAssignment(p[0])) {
        found.push(`${name} must be set once, to ${want}`);
        continue;
      }
      const value = p[0].initializer.getText(source);
      if (value !== want) found.push(`${name} is ${value}, must be ${want}`);
    }
  });
  if (windows === 0) found.push('no new BrowserWindow(...) found');
  return found;
}

/** The literal CSP values main.ts sets through a `Content-Security-Policy` header. */
function cspLiterals(source: ts.SourceFile): string[] {
  const out: string[] = [];
  walk(source, (n) => {
    if (!ts.isPropertyAssignment(n) || propName(n)?.toLowerCase() !== 'content-security-policy') return;
    const v = n.initializer;
    if (ts.isArrayLiteralExpression(v)) for (const e of v.elements) out.push(ts.isStringLiteralLike(e) ? e.text : `<not a literal: ${e.getText(source)}>`);
    else out.push(`<not an array literal: ${v.getText(source)}>`);
  });
  return out;
}

const IPC_RENDERER_METHODS = new Set(['invoke', 'on', 'removeListener']);
const OUR_CHANNELS = new Set(['CALL_CHANNEL', 'PUSH_CHANNEL']);

/**
 * What the preload must never do: use `ipcRenderer` other than `invoke`/`on`/`removeListener` on
 * our two channels (so never pass it, store it, spread it or expose it), expose more than one
 * object, or import anything but electron and our own channel/type modules.
 */
function preloadViolations(source: ts.SourceFile): string[] {
  const found: string[] = [];
  let exposed = 0;
  walk(source, (n) => {
    if (ts.isImportDeclaration(n)) {
      const spec = (n.moduleSpecifier as ts.StringLiteral).text;
      const typeOnly = Boolean(n.importClause?.isTypeOnly);
      // Sandboxed: require() knows 'electron' and a few builtins; our modules are bundled in.
      if (!typeOnly && spec !== 'electron' && spec !== './channels.ts') found.push(`imports '${spec}' at run time`);
      return;
    }
    if (ts.isIdentifier(n) && n.text === 'ipcRenderer') {
      const parent = n.parent;
      if (ts.isImportSpecifier(parent)) return;
      if (!ts.isPropertyAccessExpression(parent) || parent.expression !== n || !IPC_RENDERER_METHODS.has(parent.name.text)) {
        return void found.push(`ipcRenderer used as a value: ${parent.getText(source).slice(0, 80)}`);
      }
      const call = parent.parent;
      if (!ts.isCallExpression(call) || call.expression !== parent) return void found.push(`ipcRenderer.${parent.name.text} not called`);
      const channel = call.arguments[0];
      if (!channel || !ts.isIdentifier(channel) || !OUR_CHANNELS.has(channel.text)) {
        found.push(`ipcRenderer.${parent.name.text} on a channel other than ours: ${channel?.getText(source) ?? '(none)'}`);
      }
      return;
    }
    if (ts.isCallExpression(n) && n.expression.getText(source) === 'contextBridge.exposeInMainWorld') {
      exposed++;
      const key = n.arguments[0];
      if (!key || !ts.isStringLiteral(key) || key.text !== 'procscope') found.push(`exposes ${key?.getText(source) ?? '?'}, not 'procscope'`);
    }
  });
  if (exposed !== 1) found.push(`exposeInMainWorld is called ${exposed} times, not once`);
  return found;
}

describe('the window keeps the sandbox', () => {
  const main = parse(path.join(electronDir, 'main.ts'));

  it('main.ts: sandbox and context isolation on, Node integration, insecure content and <webview> off', () => {
    expect(webPreferenceViolations(main)).toEqual([]);
  });

  it('main.ts: every renderer is sandboxed (app.enableSandbox) and permissions are denied', () => {
    const text = main.getFullText();
    expect(text).toMatch(/\bapp\.enableSandbox\(\)/);
    expect(text).toMatch(/setPermissionRequestHandler\(\(_contents, _permission, callback\) => callback\(false\)\)/);
    expect(text).toMatch(/setPermissionCheckHandler\(\(\) => false\)/);
  });

  it('main.ts: the CSP header is exactly the agreed policy', () => {
    expect(cspLiterals(main)).toEqual([
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ]);
  });

  it('can fail: a window with Node integration, no sandbox or a spread is caught', () => {
    const bad = parse(
      'bad.ts',
      `new BrowserWindow({ webPreferences: { ...extra, contextIsolation: true, sandbox: false, nodeIntegration: true,
        nodeIntegrationInWorker: false, webSecurity: true, allowRunningInsecureContent: false, experimentalFeatures: false } })`,
    );
    expect(webPreferenceViolations(bad)).toEqual([
      'webPreferences contains a spread',
      'sandbox is false, must be true',
      'nodeIntegration is true, must be false',
      'webviewTag must be set once, to false',
    ]);
    expect(webPreferenceViolations(parse('none.ts', 'const x = 1;'))).toEqual(['no new BrowserWindow(...) found']);
  });
});

describe('the preload exposes one narrow object', () => {
  it('preload.ts never exposes ipcRenderer, uses only our channels and imports only what a sandbox allows', () => {
    expect(preloadViolations(parse(path.join(electronDir, 'preload.ts')))).toEqual([]);
  });

  it('channels.ts, bundled into the preload, imports nothing at run time', () => {
    const channels = parse(path.join(electronDir, 'channels.ts'));
    const runtimeImports = channels.statements.filter((s) => ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly);
    expect(runtimeImports.map((s) => s.getText(channels))).toEqual([]);
  });

  it('can fail: exposing ipcRenderer, forwarding any channel, or a node import is caught', () => {
    const bad = parse(
      'bad-preload.ts',
      `import { contextBridge, ipcRenderer } from 'electron';
       import fs from 'node:fs';
       contextBridge.exposeInMainWorld('ipc', ipcRenderer);
       contextBridge.exposeInMainWorld('procscope', { send: (ch: string, ...a: unknown[]) => ipcRenderer.send(ch, ...a) });`,
    );
    expect(preloadViolations(bad)).toEqual([
      "imports 'node:fs' at run time",
      "exposes 'ipc', not 'procscope'",
      "ipcRenderer used as a value: contextBridge.exposeInMainWorld('ipc', ipcRenderer)",
      'ipcRenderer used as a value: ipcRenderer.send',
      'exposeInMainWorld is called 2 times, not once',
    ]);
  });
});
