// A tiny line tokenizer for the Code panel: comments, strings, numbers and keywords of TypeScript
// and Python, enough to make the two versions easy to compare. Not a parser: no external
// highlighter, and wrong colors never change the text shown.

export type TokenKind = 'plain' | 'keyword' | 'string' | 'comment' | 'number';
export interface Token {
  kind: TokenKind;
  text: string;
}
export type CodeLang = 'ts' | 'py';

const KEYWORDS: Record<CodeLang, ReadonlySet<string>> = {
  ts: new Set(
    'import export from default async await function const let var new for of in if else return class extends while do break continue try catch finally throw typeof instanceof true false null undefined this super void as interface type'.split(
      ' ',
    ),
  ),
  py: new Set(
    'from import def class if elif else while for in return with as True False None not and or is lambda try except finally raise pass break continue global nonlocal yield async await del assert'.split(
      ' ',
    ),
  ),
};

/** Splits code into lines of tokens; a TypeScript block comment may span lines. */
export function tokenize(code: string, lang: CodeLang): Token[][] {
  const lines = code.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const out: Token[][] = [];
  let inBlock = false;
  for (const line of lines) {
    const tokens: Token[] = [];
    const push = (kind: TokenKind, text: string) => {
      if (!text) return;
      const last = tokens[tokens.length - 1];
      if (last && last.kind === kind) last.text += text;
      else tokens.push({ kind, text });
    };
    let i = 0;
    while (i < line.length) {
      if (inBlock) {
        const end = line.indexOf('*/', i);
        if (end < 0) {
          push('comment', line.slice(i));
          i = line.length;
        } else {
          push('comment', line.slice(i, end + 2));
          i = end + 2;
          inBlock = false;
        }
        continue;
      }
      const c = line[i];
      const rest = line.slice(i);
      if ((lang === 'ts' && rest.startsWith('//')) || (lang === 'py' && c === '#')) {
        push('comment', rest);
        break;
      }
      if (lang === 'ts' && rest.startsWith('/*')) {
        inBlock = true;
        push('comment', '/*');
        i += 2;
        continue;
      }
      if (c === '"' || c === "'" || (lang === 'ts' && c === '`')) {
        let j = i + 1;
        while (j < line.length && line[j] !== c) j += line[j] === '\\' ? 2 : 1;
        push('string', line.slice(i, Math.min(j + 1, line.length)));
        i = j + 1;
        continue;
      }
      if (/[A-Za-z_$]/.test(c)) {
        const m = /^[A-Za-z_$][\w$]*/.exec(rest)!;
        // Python's f-strings and friends: a prefix glued to a quote belongs to the string.
        if (lang === 'py' && /^[rbfuRBFU]{1,2}$/.test(m[0]) && (line[i + m[0].length] === '"' || line[i + m[0].length] === "'")) {
          const q = line[i + m[0].length];
          let j = i + m[0].length + 1;
          while (j < line.length && line[j] !== q) j += line[j] === '\\' ? 2 : 1;
          push('string', line.slice(i, Math.min(j + 1, line.length)));
          i = j + 1;
          continue;
        }
        push(KEYWORDS[lang].has(m[0]) ? 'keyword' : 'plain', m[0]);
        i += m[0].length;
        continue;
      }
      if (/[0-9]/.test(c) && !/[\w$]/.test(line[i - 1] ?? '')) {
        const m = /^\d[\d_]*(\.\d+)?/.exec(rest)!;
        push('number', m[0]);
        i += m[0].length;
        continue;
      }
      push('plain', c);
      i++;
    }
    out.push(tokens);
  }
  return out;
}
