/**
 * CLIP's real tokenizer files, made from the committed merges (test/fixtures/clip/bpe_simple_vocab_16e6.txt.gz, see
 * its README.md) the way openai/CLIP's simple_tokenizer.py builds its vocabulary: the 256 byte-level characters, the
 * same with "</w>", the 48,894 merges joined, then <|startoftext|> (49406) and <|endoftext|> (49407) — 49,408 ids,
 * the ones Hugging Face's vocab.json for CLIP (and Stable Diffusion v1's tokenizer/) holds.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const CLIP_MERGES_GZ = fileURLToPath(new URL('../fixtures/clip/bpe_simple_vocab_16e6.txt.gz', import.meta.url));

/** 49152 − 256 − 2: the merges CLIP uses (simple_tokenizer.py: `merges[1:49152-256-2+1]`). */
const MERGE_COUNT = 48_894;

export interface ClipVocabulary {
  /** Token → id, in id order (0 … 49407). */
  vocab: Map<string, number>;
  /** "a b", by rank. */
  merges: string[];
}

let cached: Promise<ClipVocabulary> | undefined;

/** CLIP's vocabulary and merges, read once per test file. */
export function clipVocabulary(): Promise<ClipVocabulary> {
  cached ??= (async () => {
    const lines = gunzipSync(await readFile(CLIP_MERGES_GZ)).toString('utf8').split('\n');
    const merges = lines.slice(1, MERGE_COUNT + 1);
    const alphabet = byteLevelAlphabet();
    const tokens = [...alphabet, ...alphabet.map((c) => `${c}</w>`), ...merges.map((m) => m.split(' ').join('')), '<|startoftext|>', '<|endoftext|>'];
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    if (merges.length !== MERGE_COUNT || vocab.size !== 49_408) {
      throw new Error(`clip-vocab: expected ${MERGE_COUNT} merges and 49,408 distinct tokens, got ${merges.length} and ${vocab.size}`);
    }
    return { vocab, merges };
  })();
  return cached;
}

const added = (content: string) => ({ __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false });

/** tokenizer_config.json as Stable Diffusion v1.4's tokenizer/ has it. */
export const SD14_TOKENIZER_CONFIG = {
  special_tokens_map_file: './special_tokens_map.json',
  add_prefix_space: false,
  bos_token: added('<|startoftext|>'),
  do_lower_case: true,
  eos_token: added('<|endoftext|>'),
  errors: 'replace',
  model_max_length: 77,
  name_or_path: 'openai/clip-vit-large-patch14',
  pad_token: '<|endoftext|>',
  tokenizer_class: 'CLIPTokenizer',
  unk_token: added('<|endoftext|>'),
};

/** SD v1.4's tokenizer_config.json and special_tokens_map.json, into dir. */
export async function writeSd14TokenizerConfig(dir: string): Promise<void> {
  const specials = { bos_token: added('<|startoftext|>'), eos_token: added('<|endoftext|>'), pad_token: '<|endoftext|>', unk_token: added('<|endoftext|>') };
  await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify(specials, null, 2));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(SD14_TOKENIZER_CONFIG, null, 2));
}

/** Writes CLIP's vocab.json, merges.txt ("#version: 0.2" + 48,894 merges) and SD v1.4's tokenizer_config.json into dir. */
export async function writeClipTokenizerFiles(dir: string): Promise<void> {
  const { vocab, merges } = await clipVocabulary();
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(vocab)));
  await writeFile(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  await writeSd14TokenizerConfig(dir);
}

const specialToken = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });

/**
 * Writes tokenizer.json as openai/clip-vit-large-patch14 has it (transformers' CLIPConverter layout; the merges in
 * its newer ["a", "b"] form unless `mergesAsStrings`) and SD v1.4's tokenizer_config.json into dir.
 */
export async function writeClipTokenizerJson(dir: string, options: { mergesAsStrings?: boolean } = {}): Promise<void> {
  const { vocab, merges } = await clipVocabulary();
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialToken(49406, '<|startoftext|>'), specialToken(49407, '<|endoftext|>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['<|endoftext|>', 49407],
      cls: ['<|startoftext|>', 49406],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: options.mergesAsStrings ? merges : merges.map((m) => m.split(' ')),
    },
  };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await writeSd14TokenizerConfig(dir);
}

/** GPT-2's bytes_to_unicode: the 256 byte-level characters, in CLIP's vocabulary order. */
export function byteLevelAlphabet(): string[] {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return chars.map((c) => String.fromCodePoint(c));
}

/**
 * A minimal valid CLIP BPE vocabulary: the 256 byte-level characters (ids 0–255), the same with "</w>" (256–511),
 * "<|startoftext|>" 49406, "<|endoftext|>" 49407; merges.txt with only the "#version: 0.2" header (no merges, so
 * every word tokenizes to single characters).
 */
export async function writeMinimalClipTokenizerFiles(dir: string): Promise<void> {
  const alphabet = byteLevelAlphabet();
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, i) => (vocab[c] = i));
  alphabet.forEach((c, i) => (vocab[`${c}</w>`] = 256 + i));
  vocab['<|startoftext|>'] = 49406;
  vocab['<|endoftext|>'] = 49407;
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(join(dir, 'merges.txt'), '#version: 0.2\n');
}
