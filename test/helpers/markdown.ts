/** What a README test needs from Markdown: fenced code blocks with their marker comment, inline code spans, argv. */

export interface CodeBlock {
  lang: string;
  code: string;
  /** 1-based line of the first code line in the Markdown file. */
  line: number;
  /** The text of an HTML comment on the line just above the fence (`<!-- fragment of x.ts -->` → `fragment of x.ts`). */
  marker?: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`);
    const marker = /^<!--\s*(.*?)\s*-->\s*$/.exec(lines[i - 1] ?? '')?.[1];
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 2, ...(marker ? { marker } : {}) });
    i = end;
  }
  return blocks;
}

/** Inline code spans outside fenced blocks, with their line (a table cell's `\|` is read as `|`). */
export function inlineCode(markdown: string): Array<{ code: string; line: number }> {
  const out: Array<{ code: string; line: number }> = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^```/.test(text)) fenced = !fenced;
    if (fenced) return;
    for (const m of text.matchAll(/`([^`]+)`/g)) out.push({ code: m[1]!.replace(/\\\|/g, '|'), line: i + 1 });
  });
  return out;
}

/** Whitespace-insensitive form, for "this excerpt appears in that file". */
export function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A shell command line split as sh would (single and double quotes; an unquoted `#` word starts a comment). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close < 0) throw new Error(`unclosed quote in: ${line}`);
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
