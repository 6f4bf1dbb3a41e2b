import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_BOS, CLIP_CONTEXT, CLIP_EOS, loadClipTokenizer, type ClipTokenizer } from '../../../core/text/index.js';
import { clipVocabulary, writeClipTokenizerFiles, writeClipTokenizerJson } from '../../helpers/clip-vocab.js';
import { userErrorOf } from '../../helpers/errors.js';
import { byteLevelAlphabet, writeMinimalClipTokenizerFiles } from '../../helpers/clip-vocab.js';

let root: string;
let count = 0;
/** A fresh folder under root. */
async function folder(): Promise<string> {
  const dir = join(root, `t${count++}`);
  await mkdir(dir);
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'neurodecode-clip-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The ids several implementations pin (test/fixtures/clip, /work/shared/data/clip/README.md). */
const PINNED: [string, number[]][] = [
  ['a photo of a cat', [49406, 320, 1125, 539, 320, 2368, 49407]],
  ['a photo of a dog', [49406, 320, 1125, 539, 320, 1929, 49407]],
  ['Hello, world!', [49406, 3306, 267, 1002, 256, 49407]],
  ['A PHOTO of  a Cat!', [49406, 320, 1125, 539, 320, 2368, 256, 49407]],
  ['', [49406, 49407]],
];

const padded = (ids: number[], length = CLIP_CONTEXT, pad = CLIP_EOS) => [...ids, ...new Array<number>(length - ids.length).fill(pad)];

/**
 * openai/CLIP simple_tokenizer.py's encode, ported line by line (without ftfy and HTML unescaping, which neither
 * Hugging Face's fast tokenizer nor ours does; ftfy's NFC is kept): the check that the library's BPE is CLIP's.
 */
function clipReference(vocab: Map<string, number>, merges: string[]): (text: string) => number[] {
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const alphabet = byteLevelAlphabet();
  const bytesToUnicode = new Map<number, string>();
  {
    // bytes_to_unicode: the printable bytes keep their place, the others follow in byte order.
    const bs: number[] = [];
    for (let b = 0; b < 256; b++) if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)) bs.push(b);
    for (let b = 0; b < 256; b++) if (!bs.includes(b)) bs.push(b);
    bs.forEach((b, i) => bytesToUnicode.set(b, alphabet[i]!));
  }
  const pat = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
  const cache = new Map<string, string>([
    ['<|startoftext|>', '<|startoftext|>'],
    ['<|endoftext|>', '<|endoftext|>'],
  ]);
  const bpe = (token: string): string => {
    const hit = cache.get(token);
    if (hit !== undefined) return hit;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    if (word.length < 2) return `${token}</w>`;
    for (;;) {
      let best: [string, string] | undefined;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [[word[i]!, word[i + 1]!], rank];
      }
      if (!best) break;
      const [first, second] = best;
      const next: string[] = [];
      let i = 0;
      while (i < word.length) {
        const j = word.indexOf(first, i);
        if (j < 0) {
          next.push(...word.slice(i));
          break;
        }
        next.push(...word.slice(i, j));
        i = j;
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      word = next;
      if (word.length === 1) break;
    }
    const out = word.join(' ');
    cache.set(token, out);
    return out;
  };
  const encoder = new TextEncoder();
  return (text) => {
    const cleaned = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
    const ids: number[] = [];
    for (const [token] of cleaned.matchAll(pat)) {
      const unicode = Array.from(encoder.encode(token), (b) => bytesToUnicode.get(b)!).join('');
      for (const piece of bpe(unicode).split(' ')) ids.push(vocab.get(piece)!);
    }
    return ids;
  };
}

/** Varied text for the comparison with CLIP's own algorithm. */
const CORPUS = [
  'a photograph of an astronaut riding a horse',
  'A man in a suit, standing next to a RED double-decker bus.',
  "don't it's we'll I'd they've you're I'm O'NEILL'S",
  '1080p 4k 2023 ½ ³ 3.14159 1,000,000',
  'café naïve Ångström cafe\u0301 straße ΣΊΣΥΦΟΣ İstanbul',
  '東京タワー 北京 서울 हिन्दी العربية',
  '🐱 cat 👨‍👩‍👧 family ❤️ heart',
  '!!! ... --- (a) [b] {c} <tag> a/b\\c @user #hashtag $5 100% ~~~',
  'tabs\tand\nnewlines\r\n  and   spaces  ',
  'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
  'aaaaaaaaaaaa zzzzzzzzz lollollol abababab',
  'StableDiffusion ViT-L/14 fMRI BOLD5000 NSD',
  '<|startoftext|>hello<|endoftext|> world <|StartOfText|>x<|ENDOFTEXT|>',
  "''s ''' 's'",
  '\u0000\u0007 control \u200b zero width \u00a0 nbsp',
];

describe('loadClipTokenizer on CLIP\'s own files', () => {
  let fromMerges: ClipTokenizer;
  let fromJson: ClipTokenizer;
  let fromStringMerges: ClipTokenizer;

  beforeAll(async () => {
    const a = await folder();
    await writeClipTokenizerFiles(a);
    fromMerges = await loadClipTokenizer(a);
    const b = await folder();
    await writeClipTokenizerJson(b);
    fromJson = await loadClipTokenizer(b);
    const c = await folder();
    await writeClipTokenizerJson(c, { mergesAsStrings: true });
    fromStringMerges = await loadClipTokenizer(c);
  });

  it('reads SD v1.4\'s settings: 77 ids, padded with <|endoftext|>', () => {
    expect(CLIP_BOS).toBe(49406);
    expect(CLIP_EOS).toBe(49407);
    expect(fromMerges.contextLength).toBe(77);
    expect(fromMerges.padId).toBe(49407);
    expect(fromMerges.description).toBe('CLIP BPE, vocab.json + merges.txt (49,408 tokens), 77 tokens, pad 49407');
    expect(fromJson.description).toBe('CLIP BPE, tokenizer.json (49,408 tokens), 77 tokens, pad 49407');
  });

  it.each(PINNED)('gives the pinned ids for %j (vocab.json + merges.txt and tokenizer.json)', (text, ids) => {
    for (const tokenizer of [fromMerges, fromJson, fromStringMerges]) {
      const row = tokenizer.encode(text);
      expect(row).toBeInstanceOf(Int32Array);
      expect(Array.from(row)).toEqual(padded(ids));
    }
  });

  it('gives the ids of CLIP\'s own BPE algorithm (simple_tokenizer.py) on varied text', async () => {
    const { vocab, merges } = await clipVocabulary();
    const reference = clipReference(vocab, merges);
    for (const [text, ids] of PINNED) expect([CLIP_BOS, ...reference(text), CLIP_EOS]).toEqual(ids);
    for (const text of CORPUS) {
      const ids = reference(text).slice(0, CLIP_CONTEXT - 2);
      const expected = padded([CLIP_BOS, ...ids, CLIP_EOS]);
      expect(Array.from(fromMerges.encode(text)), text).toEqual(expected);
      expect(Array.from(fromJson.encode(text)), text).toEqual(expected);
    }
  });

  it('truncates to BOS + 75 tokens + EOS', () => {
    for (const tokenizer of [fromMerges, fromJson]) {
      const row = Array.from(tokenizer.encode('cat '.repeat(100)));
      expect(row).toHaveLength(77);
      expect(row[0]).toBe(CLIP_BOS);
      expect(row.slice(1, 76)).toEqual(new Array<number>(75).fill(2368));
      expect(row[76]).toBe(CLIP_EOS);
    }
    // Exactly 75 tokens fit; 76 lose the last.
    const fits = Array.from(fromMerges.encode('cat '.repeat(74) + 'dog'));
    expect(fits[75]).toBe(1929);
    expect(fits[76]).toBe(CLIP_EOS);
    const cut = Array.from(fromMerges.encode('cat '.repeat(75) + 'dog'));
    expect(cut[75]).toBe(2368);
    expect(cut[76]).toBe(CLIP_EOS);
  });

  it('lays encodeBatch out row-major, one encode() per row', () => {
    const texts = ['a photo of a cat', '', 'cat '.repeat(100), 'Hello, world!'];
    const batch = fromMerges.encodeBatch(texts);
    expect(batch).toBeInstanceOf(Int32Array);
    expect(batch).toHaveLength(texts.length * 77);
    texts.forEach((text, i) => expect(Array.from(batch.subarray(i * 77, (i + 1) * 77))).toEqual(Array.from(fromMerges.encode(text))));
    expect(fromMerges.encodeBatch([])).toHaveLength(0);
  });
});

describe('loadClipTokenizer settings', () => {
  it('pads with <|endoftext|> to 77 without tokenizer_config.json', async () => {
    const dir = await folder();
    await writeMinimalClipTokenizerFiles(dir);
    const tokenizer = await loadClipTokenizer(dir);
    expect(tokenizer.contextLength).toBe(77);
    expect(tokenizer.padId).toBe(49407);
    // No merges: every word is its characters, the last with </w>.
    const alphabet = byteLevelAlphabet();
    const ids = ['c', 'a', 't'].map((c) => alphabet.indexOf(c));
    expect(Array.from(tokenizer.encode('Cat'))).toEqual(padded([49406, ids[0]!, ids[1]!, 256 + ids[2]!, 49407]));
    expect(tokenizer.description).toBe('CLIP BPE, vocab.json + merges.txt (514 tokens), 77 tokens, pad 49407');
  });

  it('takes model_max_length and pad_token from tokenizer_config.json', async () => {
    const dir = await folder();
    await writeMinimalClipTokenizerFiles(dir);
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 6, pad_token: { __type: 'AddedToken', content: '!' } }));
    const tokenizer = await loadClipTokenizer(dir);
    expect(tokenizer.contextLength).toBe(6);
    expect(tokenizer.padId).toBe(0); // "!" is the first byte-level character
    expect(Array.from(tokenizer.encode('a'))).toEqual([49406, 256 + 64, 49407, 0, 0, 0]);
    // 'abcdef' is six tokens; four fit.
    expect(Array.from(tokenizer.encode('abcdef'))).toEqual([49406, 64, 65, 66, 67, 49407]);
    expect(tokenizer.encodeBatch(['a', 'b'])).toHaveLength(12);
    expect(tokenizer.description).toContain('6 tokens, pad 0');
  });

  it('ignores an absurd model_max_length (no limit set) and falls back to special_tokens_map.json for pad_token', async () => {
    const dir = await folder();
    await writeMinimalClipTokenizerFiles(dir);
    await writeFile(join(dir, 'tokenizer_config.json'), '{"model_max_length": 1000000000000000019884624838656}');
    await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '<|startoftext|>' }));
    const tokenizer = await loadClipTokenizer(dir);
    expect(tokenizer.contextLength).toBe(77);
    expect(tokenizer.padId).toBe(49406);
  });

  it('prefers tokenizer.json when both forms are there', async () => {
    const dir = await folder();
    await writeMinimalClipTokenizerFiles(dir);
    await writeClipTokenizerJson(dir);
    expect((await loadClipTokenizer(dir)).description).toContain('tokenizer.json (49,408 tokens)');
  });
});

describe('loadClipTokenizer errors', () => {
  /** A folder with the minimal vocab.json + merges.txt, then `edit` applied. */
  async function minimal(edit: (dir: string) => Promise<void>): Promise<string> {
    const dir = await folder();
    await writeMinimalClipTokenizerFiles(dir);
    await edit(dir);
    return dir;
  }
  const vocabOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as Record<string, unknown>;
  const setVocab = async (dir: string, edit: (vocab: Record<string, unknown>) => unknown) => {
    const vocab = await vocabOf(dir);
    const replaced = edit(vocab);
    await writeFile(join(dir, 'vocab.json'), JSON.stringify(replaced ?? vocab));
  };

  it('names a missing folder', async () => {
    const missing = join(root, 'no-such-folder');
    const error = await userErrorOf(loadClipTokenizer(missing));
    expect(error.message).toContain(missing);
    expect(error.message).toContain('does not exist');
  });

  it('names the files it looked for', async () => {
    const empty = await folder();
    let error = await userErrorOf(loadClipTokenizer(empty));
    expect(error.message).toContain(empty);
    for (const name of ['tokenizer.json', 'vocab.json', 'merges.txt']) expect(error.message).toContain(name);
    const onlyVocab = await minimal((dir) => unlink(join(dir, 'merges.txt')));
    error = await userErrorOf(loadClipTokenizer(onlyVocab));
    expect(error.message).toMatch(/nor merges\.txt\)$/);
  });

  it('rejects a vocab.json that is not a JSON object of string → integer', async () => {
    const cases: [(dir: string) => Promise<void>, RegExp][] = [
      [(dir) => writeFile(join(dir, 'vocab.json'), '{"a": 1,'), /not valid JSON/],
      [(dir) => setVocab(dir, () => ['a', 'b']), /must be a JSON object mapping each token \(string\) to its id \(integer\); got an array/],
      [(dir) => setVocab(dir, (v) => void (v['x</w>'] = '7')), /token "x<\/w>" has "7"/],
      [(dir) => setVocab(dir, (v) => void (v['y</w>'] = 1.5)), /token "y<\/w>" has 1\.5/],
    ];
    for (const [edit, pattern] of cases) {
      const error = await userErrorOf(loadClipTokenizer(await minimal(edit)));
      expect(error.message).toContain('vocab.json');
      expect(error.message).toMatch(pattern);
    }
  });

  it('rejects a merges.txt line that is not "a b", and merges of tokens not in the vocabulary', async () => {
    const alphabet = byteLevelAlphabet();
    let error = await userErrorOf(loadClipTokenizer(await minimal((dir) => writeFile(join(dir, 'merges.txt'), '#version: 0.2\na b c\n'))));
    expect(error.message).toContain('merges.txt');
    expect(error.message).toContain('line 2 must be a merge "a b"');
    expect(error.message).toContain('"a b c"');
    error = await userErrorOf(loadClipTokenizer(await minimal((dir) => writeFile(join(dir, 'merges.txt'), '#version: 0.2\nab\n'))));
    expect(error.message).toContain('line 2');
    error = await userErrorOf(loadClipTokenizer(await minimal((dir) => writeFile(join(dir, 'merges.txt'), `#version: 0.2\n${alphabet[64]} ${alphabet[65]}\n`))));
    expect(error.message).toContain('merges.txt');
    expect(error.message).toContain('"ab", which is not in the vocabulary');
  });

  it('requires <|startoftext|> 49406 and <|endoftext|> 49407 in the vocabulary', async () => {
    let error = await userErrorOf(loadClipTokenizer(await minimal((dir) => setVocab(dir, (v) => void delete v['<|startoftext|>']))));
    expect(error.message).toContain('vocab.json');
    expect(error.message).toContain('no <|startoftext|>');
    error = await userErrorOf(loadClipTokenizer(await minimal((dir) => setVocab(dir, (v) => void delete v['<|endoftext|>']))));
    expect(error.message).toContain('no <|endoftext|>');
    error = await userErrorOf(
      loadClipTokenizer(
        await minimal((dir) =>
          setVocab(dir, (v) => {
            v['<|startoftext|>'] = 49407;
            v['<|endoftext|>'] = 49406;
          }),
        ),
      ),
    );
    expect(error.message).toContain('vocab.json');
    expect(error.message).toContain('<|startoftext|> has id 49407 in the vocabulary; CLIP\'s is 49406');
    error = await userErrorOf(loadClipTokenizer(await minimal((dir) => setVocab(dir, (v) => void (v['<|endoftext|>'] = 1)))));
    expect(error.message).toContain('<|endoftext|> has id 1');
  });

  it('checks tokenizer.json', async () => {
    const base = await folder();
    await writeClipTokenizerJson(base);
    const json = JSON.parse(await readFile(join(base, 'tokenizer.json'), 'utf8')) as {
      model: Record<string, unknown>;
      added_tokens: unknown;
    };
    const cases: [(j: typeof json) => unknown, RegExp][] = [
      [() => [1, 2], /expected a JSON object/],
      [(j) => void (j.model.type = 'WordPiece'), /'model.type' must be "BPE".*got "WordPiece"/],
      [(j) => void (j.model.vocab = []), /'model.vocab' must be a JSON object/],
      [(j) => void ((j.model.vocab as Record<string, unknown>)['cat</w>'] = null), /'model.vocab'.*token "cat<\/w>" has null/],
      [(j) => void (j.model.merges = 'i n'), /'model.merges' must be an array/],
      [(j) => void ((j.model.merges as unknown[])[3] = 'a b c'), /'model.merges\[3\]' must be a merge "a b"/],
      [(j) => void ((j.model.merges as unknown[])[5] = ['x', 'y', 'z']), /'model.merges\[5\]'/],
      [(j) => void (j.added_tokens = [{ id: 49406, content: '<|startoftext|>' }, { id: 5, content: '<|endoftext|>' }]), /<\|endoftext\|> has id 5/],
      [(j) => void (j.added_tokens = [{ content: '<|endoftext|>' }]), /'added_tokens\[0\]' must be an object with 'content'/],
    ];
    for (const [edit, pattern] of cases) {
      const dir = await folder();
      const copy = structuredClone(json);
      const replaced = edit(copy);
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(replaced ?? copy));
      const error = await userErrorOf(loadClipTokenizer(dir));
      expect(error.message).toContain(join(dir, 'tokenizer.json'));
      expect(error.message).toMatch(pattern);
    }
    const broken = await folder();
    await writeFile(join(broken, 'tokenizer.json'), '{');
    expect((await userErrorOf(loadClipTokenizer(broken))).message).toMatch(/tokenizer\.json: not valid JSON/);
  });

  it('checks tokenizer_config.json and special_tokens_map.json', async () => {
    const cases: [string, string, RegExp][] = [
      ['tokenizer_config.json', '[]', /expected a JSON object/],
      ['tokenizer_config.json', '{"model_max_length": 1}', /'model_max_length' must be an integer ≥ 2.*got 1/],
      ['tokenizer_config.json', '{"model_max_length": "77"}', /'model_max_length' must be an integer ≥ 2.*got "77"/],
      ['tokenizer_config.json', '{"model_max_length": 76.5}', /'model_max_length'.*got 76\.5/],
      ['tokenizer_config.json', '{"pad_token": "<pad>"}', /'pad_token' "<pad>" is not in the vocabulary/],
      ['tokenizer_config.json', '{"pad_token": 7}', /'pad_token' must be a token/],
      ['special_tokens_map.json', '{"pad_token": "<pad>"}', /'pad_token' "<pad>" is not in the vocabulary/],
    ];
    for (const [file, text, pattern] of cases) {
      const dir = await minimal((d) => writeFile(join(d, file), text));
      const error = await userErrorOf(loadClipTokenizer(dir));
      expect(error.message).toContain(join(dir, file));
      expect(error.message).toMatch(pattern);
    }
  });
});
