// Compiles a scenario's own modules, once per run in the monitor, into plain ES modules that name
// everything they import by absolute URL. Scenario processes then load them with Node's default
// loader and need no module hooks: module.register() starts Node 20's off-thread loader, which
// costs every process of the run ~55 ms of CPU before it reaches its target.
//
// The output must run exactly as the hooks path (src-main/runtime/hooks.ts) runs the original:
// the same TypeScript stripping (sucrase, same options), 'procscope' -> the runtime's URL, `./x.js`
// finding `./x.ts`, `import.meta.url` naming the original file (so `new URL('./data.txt',
// import.meta.url)` still finds the user's files) and stack traces naming it too (a sourceURL
// comment). Whatever it cannot reproduce faithfully it declines, saying why, and the run loads the
// scenario through the hooks as before: a package from node_modules, a computed import(), JSON,
// CommonJS, require(), a syntax error, or an import that would fail to link (Node's own message
// names the specifier the scenario wrote, which a rewritten URL would not).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImportType, initSync, parse, type ImportSpecifier } from 'es-module-lexer';
import { privateDir } from './private-dir.ts';

/** The compiled entry to import instead of the scenario file, or why the hooks are needed. */
export type CompileResult = { entry: string } | { fallback: string };

/** Thrown inside the compiler only: compileScenario turns it into `{ fallback }`. */
class Decline extends Error {}

/** What a module's import refers to: a local file (its real path), the runtime, or a builtin. */
const RUNTIME = 'procscope';
const builtinKey = (spec: string): string => `builtin:${spec}`;

interface Module {
  /** Real path of the original file: Node resolves symlinks, so its URL is this one's. */
  file: string;
  url: string;
  out: string;
  code: string;
  /** Names the module exports itself (re-exports `export { a } from` included). */
  exports: Set<string>;
  /** Keys of the modules it re-exports with `export * from`. */
  stars: string[];
}

/** Names one module imports from another: checked once the whole graph is known. */
interface Link {
  from: Module;
  spec: string;
  target: string;
  names: string[];
}

export function compileScenario(file: string, outDir: string, runtimeUrl: string): CompileResult {
  let modules: Module[];
  try {
    modules = new Compiler(outDir, runtimeUrl).run(file);
  } catch (err) {
    if (err instanceof Decline) return { fallback: err.message };
    return { fallback: `cannot compile ${file}: ${(err as Error).message}` };
  }
  // Written only once the whole graph compiled: a declined scenario leaves nothing behind.
  try {
    fs.mkdirSync(outDir, { recursive: true });
    for (const m of modules) fs.writeFileSync(m.out, m.code);
  } catch (err) {
    fs.rmSync(outDir, { recursive: true, force: true });
    return { fallback: `cannot write the compiled scenario to ${outDir}: ${(err as Error).message}` };
  }
  return { entry: modules[0].out };
}

class Compiler {
  private readonly modules = new Map<string, Module>();
  private readonly links: Link[] = [];
  private readonly packageTypes = new Map<string, string | null>();

  constructor(
    private readonly outDir: string,
    private readonly runtimeUrl: string,
  ) {}

  /** The compiled modules, the entry first. */
  run(file: string): Module[] {
    const entry = realFile(file) ?? decline(`cannot read ${file}`);
    const pending = [entry];
    const queued = new Set(pending);
    while (pending.length > 0) {
      const m = this.compile(pending.pop() as string, (dep) => {
        if (!queued.has(dep)) {
          queued.add(dep);
          pending.push(dep);
        }
      });
      this.modules.set(m.file, m);
    }
    for (const link of this.links) this.check(link);
    return [...this.modules.values()];
  }

  private compile(file: string, need: (file: string) => void): Module {
    const url = pathToFileURL(file).href;
    const source = readSource(file);
    const ext = path.extname(file);
    let code: string;
    if (ext === '.ts' || ext === '.mts') code = stripTypes(source, file);
    else if (ext === '.mjs' || ext === '.js') code = source;
    else decline(`${file}: a ${ext || 'extensionless'} module is loaded by Node's own rules (the hooks path keeps them)`);

    let imports: readonly ImportSpecifier[];
    let exportNames: string[];
    let hasModuleSyntax: boolean;
    try {
      ensureLexer();
      const [imps, exps, , esm] = parse(code, file);
      imports = imps;
      exportNames = exps.map((e) => e.n);
      hasModuleSyntax = esm;
    } catch (err) {
      decline(`${file}: syntax error (${(err as Error).message})`);
    }
    if (ext === '.js') {
      // Node decides what a .js file is from the nearest package.json, then from its syntax.
      const type = this.packageType(path.dirname(file));
      if (type === 'commonjs' || (type === null && !hasModuleSyntax)) decline(`${file} is CommonJS`);
    }
    // A false positive (the word in a string) only costs the run its speed.
    if (/\brequire\s*\(/.test(code)) decline(`${file} calls require()`);

    const m: Module = {
      file,
      url,
      out: path.join(this.outDir, outName(file)),
      code: '',
      exports: new Set(exportNames),
      stars: [],
    };
    const edits: { s: number; e: number; text: string }[] = [];
    for (const im of imports) {
      if (im.t === ImportType.ImportMeta) {
        edits.push(this.importMeta(code, im, file));
        continue;
      }
      if (im.t !== ImportType.Static && im.t !== ImportType.Dynamic) decline(`${file} uses a source or defer phase import`);
      if (im.n === undefined) decline(`${file} calls import() with a computed specifier`);
      if (im.a !== -1) decline(`${file} imports '${im.n}' with import attributes`);
      const spec = im.n;
      const target = this.resolve(spec, m, need);
      if (target.url !== null) {
        // Static: the quotes around s..e; dynamic: s..e is the literal, quotes included.
        const [s, e] = im.t === ImportType.Static ? [im.s - 1, im.e + 1] : [im.s, im.e];
        if (!/^['"]/.test(code.slice(s, s + 1))) decline(`${file}: cannot read the specifier '${spec}'`);
        edits.push({ s, e, text: JSON.stringify(target.url) });
      }
      if (im.t === ImportType.Static) {
        const clause = clauseOf(code.slice(im.ss, im.se));
        if (clause === null) decline(`${file}: cannot read the import of '${spec}'`);
        if (clause === 'star') m.stars.push(target.key);
        // Only rewritten specifiers need checking: a builtin's error names what the scenario wrote.
        else if (clause.length > 0 && target.url !== null) this.links.push({ from: m, spec, target: target.key, names: clause });
      }
    }
    edits.sort((a, b) => b.s - a.s);
    for (const { s, e, text } of edits) code = code.slice(0, s) + text + code.slice(e);
    // Stack traces name the original file, as they do on the hooks path.
    m.code = `${code}\n//# sourceURL=${url}\n`;
    return m;
  }

  /** `import.meta.url`, `.dirname`, `.filename` read as the original's; any other use declines. */
  private importMeta(code: string, im: ImportSpecifier, file: string): { s: number; e: number; text: string } {
    const prop = /^\s*\.\s*(url|dirname|filename)(?![\w$])/.exec(code.slice(im.e, im.e + 64));
    if (!prop) decline(`${file} uses import.meta other than .url, .dirname or .filename`);
    const end = im.e + prop[0].length;
    // Assigned or deleted, a property is not a constant: keep the real import.meta.
    const after = /^\s*(?:=(?!=)|[-+*/%&|^]=|\*\*=|<<=|>>>?=|&&=|\|\|=|\?\?=|\+\+|--)/.test(code.slice(end, end + 8));
    const before = /(?:\+\+|--|\bdelete)\s*$/.test(code.slice(Math.max(0, im.s - 16), im.s));
    if (after || before) decline(`${file} changes import.meta.${prop[1]}`);
    const value = prop[1] === 'url' ? pathToFileURL(file).href : prop[1] === 'dirname' ? path.dirname(file) : file;
    return { s: im.s, e: end, text: JSON.stringify(value) };
  }

  private resolve(spec: string, m: Module, need: (file: string) => void): { key: string; url: string | null } {
    if (spec === 'procscope') return { key: RUNTIME, url: this.runtimeUrl };
    // Builtins stay as written: Node resolves them the same way on both paths.
    if (spec.startsWith('node:') || isBuiltin(spec)) return { key: builtinKey(spec), url: null };
    if (!/^(?:\.{1,2}(?:\/|$)|\/|file:)/.test(spec)) decline(`${m.file} imports the package '${spec}' (node_modules)`);
    const file = this.localFile(spec, m.url) ?? decline(`${m.file} imports '${spec}', which is not a file (Node reports it)`);
    need(file);
    return { key: file, url: pathToFileURL(path.join(this.outDir, outName(file))).href };
  }

  /** Node's file resolution, then the hooks' `./x.js` -> `./x.ts` retry: a real path, or null. */
  private localFile(spec: string, parentUrl: string): string | null {
    const pathOf = (s: string): string | null => {
      try {
        const url = new URL(s, parentUrl);
        if (url.protocol !== 'file:' || url.search || url.hash || /%2f|%5c/i.test(url.pathname)) return null;
        return fileURLToPath(url);
      } catch {
        return null;
      }
    };
    const direct = pathOf(spec);
    if (direct === null) return null;
    if (exists(direct)) return realFile(direct);
    // The hooks retry only when nothing is there (a folder named x.js is Node's error to report).
    if (!/^\.{1,2}\//.test(spec) || !spec.endsWith('.js')) return null;
    const ts = pathOf(`${spec.slice(0, -3)}.ts`);
    return ts === null ? null : realFile(ts);
  }

  /** `type` of the nearest package.json, as Node's package scope lookup finds it. */
  private packageType(dir: string): string | null {
    const known = this.packageTypes.get(dir);
    if (known !== undefined) return known;
    let type: string | null;
    const pkg = path.join(dir, 'package.json');
    if (path.basename(dir) === 'node_modules') type = null;
    else if (exists(pkg)) {
      let json: { type?: unknown };
      try {
        json = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: unknown };
      } catch {
        decline(`${pkg} cannot be read`);
      }
      type = json.type === 'module' || json.type === 'commonjs' ? json.type : null;
    } else {
      const up = path.dirname(dir);
      type = up === dir ? null : this.packageType(up);
    }
    this.packageTypes.set(dir, type);
    return type;
  }

  /** An import Node would refuse at link time is left to Node, whose message names the specifier. */
  private check(link: Link): void {
    const known = this.exportsOf(link.target, new Set());
    for (const name of link.names) {
      if (!known.names.has(name)) {
        decline(
          known.open
            ? `${link.from.file} imports '${name}' from '${link.spec}', which cannot be checked`
            : `${link.from.file} imports '${name}' from '${link.spec}', which does not export it`,
        );
      }
    }
  }

  /**
   * What a module exports, `export *` followed. `open` when it cannot be known (a builtin's star);
   * a name two stars provide is left out (Node may find it ambiguous), so importing it declines.
   */
  private exportsOf(key: string, visiting: Set<string>): { names: Set<string>; open: boolean } {
    if (key === RUNTIME) return { names: runtimeExports(this.runtimeUrl), open: false };
    const m = this.modules.get(key);
    if (!m || visiting.has(key)) return { names: new Set(), open: m === undefined };
    visiting.add(key);
    const names = new Set(m.exports);
    const starred = new Map<string, number>();
    let open = false;
    for (const star of m.stars) {
      const sub = this.exportsOf(star, visiting);
      open ||= sub.open;
      for (const n of sub.names) if (n !== 'default' && !m.exports.has(n)) starred.set(n, (starred.get(n) ?? 0) + 1);
    }
    for (const [n, count] of starred) if (count === 1) names.add(n);
    visiting.delete(key);
    return { names, open };
  }
}

function decline(why: string): never {
  throw new Decline(why);
}

function exists(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false }) !== undefined;
}

/** The real path of a regular file, or null (missing, a directory, unreadable). */
function realFile(file: string): string | null {
  try {
    return fs.statSync(file).isFile() ? fs.realpathSync(file) : null;
  } catch {
    return null;
  }
}

function readSource(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    decline(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `main.ts.<hash of its path>.mjs`: distinct per source file, still recognisable. */
function outName(file: string): string {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 12);
  return `${path.basename(file).replace(/[^\w.-]/g, '_')}.${hash}.mjs`;
}

let lexerReady = false;
function ensureLexer(): void {
  if (!lexerReady) initSync();
  lexerReady = true;
}

// ---- TypeScript: sucrase with the hooks' options, cached on disk by content ------------------

type Transform = (code: string, opts: object) => { code: string };
let sucraseTransform: Transform | null = null;
const CACHE_DIR = path.join(os.tmpdir(), `procscope-compile-cache-${process.getuid?.() ?? 'u'}`);
const CACHE_VERSION = '1';

/**
 * The cache folder, if we may trust what is in it: ours, and nobody else can write to it (in a
 * shared /tmp, another user could otherwise plant code under a key computed from a readable file).
 */
let checkedCacheDir: string | null | undefined;

function cacheDir(): string | null {
  // Checked once per process: every module load asks.
  if (checkedCacheDir === undefined) checkedCacheDir = checkCacheDir();
  return checkedCacheDir;
}

function checkCacheDir(): string | null {
  return privateDir(CACHE_DIR) ? CACHE_DIR : null;
}

function stripTypes(source: string, file: string): string {
  const dir = cacheDir();
  const key = createHash('sha256').update(CACHE_VERSION).update(file).update('\0').update(source).digest('hex');
  const cached = dir === null ? null : path.join(dir, `${key.slice(0, 40)}.js`);
  if (cached !== null) {
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      // not cached yet
    }
  }
  // Loaded on first use only: a monitor whose scenarios are all cached never pays for it.
  sucraseTransform ??= (createRequire(import.meta.url)('sucrase') as { transform: Transform }).transform;
  let code: string;
  try {
    code = sucraseTransform(source, { transforms: ['typescript'], disableESTransforms: true, filePath: file }).code;
  } catch (err) {
    // The hooks path reports it in the words the tests and users know.
    decline(`${file}: syntax error (${(err as Error).message.split('\n')[0]})`);
  }
  if (cached !== null) {
    try {
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, cached);
    } catch {
      // A cache we cannot write only costs speed.
    }
  }
  return code;
}

// ---- the runtime's export names, for checking `import { x } from 'procscope'` ----------------

const runtimeNames = new Map<string, { stamp: string; names: Set<string> }>();

function runtimeExports(runtimeUrl: string): Set<string> {
  const file = fileURLToPath(runtimeUrl);
  let stamp: string;
  let source: string;
  try {
    const st = fs.statSync(file);
    stamp = `${st.mtimeMs}:${st.size}`;
    const known = runtimeNames.get(file);
    if (known?.stamp === stamp) return known.names;
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    decline(`cannot read the runtime ${file}: ${(err as Error).message}`);
  }
  ensureLexer();
  const names = new Set(parse(source, file)[1].map((e) => e.n));
  runtimeNames.set(file, { stamp, names });
  return names;
}

// ---- import clauses: which names an import statement asks of its module ----------------------

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|([\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([{},*;])/uy;

/**
 * The names `import ... from` or `export ... from` takes from its module ('default' for a default
 * import), 'star' for `export * from`, or null when the statement is not read with certainty.
 */
export function clauseOf(statement: string): string[] | 'star' | null {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < statement.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(statement);
    if (!m) return null;
    if (m[1] !== undefined || m[3] !== undefined) tokens.push(m[0]);
    else if (m[2] !== undefined) tokens.push(m[2]);
    if (TOKEN.lastIndex === at) return null;
  }
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (t?: string): string | null => {
    const v = tokens[i];
    if (v === undefined || (t !== undefined && v !== t)) return null;
    i += 1;
    return v;
  };
  const isIdent = (t: string | undefined): boolean => t !== undefined && /^[\p{ID_Start}$_]/u.test(t);
  const isString = (t: string | undefined): boolean => t !== undefined && /^["']/.test(t);
  const nameOf = (t: string | null): string | null => {
    if (t === null) return null;
    if (isIdent(t)) return t;
    // A string name (`import { "a b" as c }`): plain strings only; escapes decline.
    return /^(["'])[^\\]*\1$/.test(t) ? t.slice(1, -1) : null;
  };
  /** `{ a, b as c, "d" as e }`: the first names, the ones asked of the module. */
  const braces = (): string[] | null => {
    const names: string[] = [];
    if (!take('{')) return null;
    while (peek() !== '}') {
      const n = nameOf(take());
      if (n === null) return null;
      names.push(n);
      if (peek() === 'as') {
        take('as');
        if (nameOf(take()) === null) return null;
      }
      if (peek() === ',') take(',');
      else if (peek() !== '}') return null;
    }
    take('}');
    return names;
  };
  const end = (names: string[] | 'star'): string[] | 'star' | null => {
    if (!take('from') || nameOf(take()) === null) return null;
    if (peek() === ';') take(';');
    return i === tokens.length ? names : null;
  };

  // The first word: the lexer hands over only import statements and `export ... from`.
  const first = take() ?? '';
  if (/^import$/.test(first)) {
    if (isString(peek())) {
      // `import './x'`: evaluated for its effects, no names asked.
      take();
      if (peek() === ';') take(';');
      return i === tokens.length ? [] : null;
    }
    const names: string[] = [];
    if (isIdent(peek()) && peek() !== 'from') {
      names.push('default');
      take();
      if (peek() !== ',') return end(names);
      take(',');
    } else if (peek() === 'from') {
      // `import from from './x'`: a default import named `from`.
      take();
      if (peek() === 'from') return end(['default']);
      return null;
    }
    if (peek() === '*') {
      take('*');
      if (!take('as') || !isIdent(take() ?? undefined)) return null;
      return end(names);
    }
    const more = braces();
    return more === null ? null : end([...names, ...more]);
  }
  if (/^export$/.test(first)) {
    if (peek() === '*') {
      take('*');
      if (peek() === 'as') {
        take('as');
        if (nameOf(take()) === null) return null;
        return end([]);
      }
      return end('star');
    }
    const names = braces();
    return names === null ? null : end(names);
  }
  return null;
}
