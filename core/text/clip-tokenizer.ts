/**
 * CLIP's byte-level BPE tokeniser, as Stable Diffusion's text encoder is fed: `<|startoftext|>`, the tokens,
 * `<|endoftext|>`, padded with the pad token to the context length (77), or truncated to BOS + 75 tokens + EOS —
 * what Hugging Face's CLIPTokenizer gives with `padding="max_length", truncation=True`.
 *
 * The BPE itself is @huggingface/tokenizers (tokenizers.js, the pure-JS tokeniser transformers.js is built on). It
 * runs a Hugging Face tokenizer.json as the Rust `tokenizers` crate does, and supports every part CLIP's uses: the
 * NFC / Replace / Lowercase normalizers, the Split pre-tokenizer (inverted, on CLIP's regular expression) followed by
 * ByteLevel, and BPE with `end_of_word_suffix` "</w>" (merged by rank, ties to the left). A folder with only
 * vocab.json + merges.txt (Stable Diffusion's own `tokenizer/`) is turned into that same tokenizer.json in memory,
 * as transformers' CLIPConverter builds it. Padding and truncation are done here.
 *
 * Like Hugging Face's fast tokenizer, text is not run through ftfy nor HTML-unescaped (OpenAI's simple_tokenizer
 * does both); for ordinary prompts the ids are the same.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors.js';

export const CLIP_BOS = 49406;
export const CLIP_EOS = 49407;
export const CLIP_CONTEXT = 77;

const BOS_TOKEN = '<|startoftext|>';
const EOS_TOKEN = '<|endoftext|>';
/** transformers leaves model_max_length at int(1e30) when a model sets none; such values mean "no limit given". */
const ABSURD_MAX_LENGTH = 1e6;

export interface ClipTokenizer {
  /** Ids per text: 77 unless tokenizer_config.json's model_max_length says otherwise. */
  readonly contextLength: number;
  /** The id rows are padded with: the vocabulary's id of the configured pad_token (SD: <|endoftext|> = 49407). */
  readonly padId: number;
  /** e.g. "CLIP BPE, vocab.json + merges.txt (49,408 tokens), 77 tokens, pad 49407". */
  readonly description: string;
  /** contextLength ids: BOS, the text's tokens (at most contextLength − 2), EOS, then padId. */
  encode(text: string): Int32Array;
  /** texts.length × contextLength ids, row-major (one row per text, as encode gives it). */
  encodeBatch(texts: readonly string[]): Int32Array;
}

/** CLIP's pre-tokenising expression (openai/CLIP simple_tokenizer.py; the Split pattern of CLIP's tokenizer.json). */
const CLIP_SPLIT_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: unknown): string => (value === undefined ? 'missing' : JSON.stringify(value));

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the file (${(error as Error).message})`, path);
  }
}

async function readJson(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, path);
  }
}

/** vocab.json / tokenizer.json's model.vocab: a JSON object mapping each token to a non-negative integer id. */
function parseVocab(value: unknown, path: string, field: string): Map<string, number> {
  if (!isObject(value)) {
    throw new UserError(`${field} must be a JSON object mapping each token (string) to its id (integer); got ${Array.isArray(value) ? 'an array' : show(value)}`, path);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new UserError(`${field} must map each token (string) to its id (a non-negative integer); token ${JSON.stringify(token)} has ${show(id)}`, path);
    }
    vocab.set(token, id);
  }
  return vocab;
}

/** Checks that a merge's two symbols and their join are in the vocabulary (as the Rust BPE builder does). */
function checkMerge(a: string, b: string, vocab: Map<string, number>, path: string, where: string): void {
  for (const symbol of [a, b, a + b]) {
    if (!vocab.has(symbol)) {
      throw new UserError(`${where}: merge "${a} ${b}" needs ${JSON.stringify(symbol)}, which is not in the vocabulary`, path);
    }
  }
}

/** merges.txt: an optional "#version" header, then one merge "a b" (two symbols, one space) a line. */
function parseMergesTxt(text: string, vocab: Map<string, number>, path: string): string[] {
  const merges: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new UserError(`line ${i + 1} must be a merge "a b" (two symbols separated by one space); got ${JSON.stringify(line)}`, path);
    }
    checkMerge(parts[0]!, parts[1]!, vocab, path, `line ${i + 1}`);
    merges.push(line);
  });
  return merges;
}

function addedToken(id: number, content: string): Json {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true };
}

/** The tokenizer.json that transformers' CLIPConverter writes for CLIP's vocab.json + merges.txt. */
function clipTokenizerJson(vocab: Map<string, number>, merges: string[], bos: number, eos: number): Json {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(bos, BOS_TOKEN), addedToken(eos, EOS_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: null, // BOS / EOS are added here, with the truncation
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

/** Checks a tokenizer.json: a BPE model with a string → integer vocab and "a b" (or ["a", "b"]) merges; returns its full vocabulary. */
function checkTokenizerJson(json: unknown, path: string): { json: Json; vocab: Map<string, number> } {
  if (!isObject(json)) throw new UserError('expected a JSON object (a Hugging Face tokenizer.json)', path);
  const model = json.model;
  if (!isObject(model)) throw new UserError(`'model' must be an object (the BPE model); got ${show(model)}`, path);
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new UserError(`'model.type' must be "BPE" (CLIP's byte-level BPE); got ${show(model.type)}`, path);
  }
  const vocab = parseVocab(model.vocab, path, "'model.vocab'");
  const merges = model.merges;
  if (!Array.isArray(merges)) throw new UserError(`'model.merges' must be an array of merges ("a b" or ["a", "b"]); got ${show(merges)}`, path);
  merges.forEach((merge: unknown, i) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((s) => typeof s !== 'string' || s === '')) {
      throw new UserError(`'model.merges[${i}]' must be a merge "a b" (two symbols separated by one space) or ["a", "b"]; got ${show(merge)}`, path);
    }
    checkMerge(pair[0] as string, pair[1] as string, vocab, path, `'model.merges[${i}]'`);
  });
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new UserError(`'added_tokens' must be an array; got ${show(added)}`, path);
  added.forEach((token: unknown, i) => {
    if (!isObject(token) || typeof token.content !== 'string' || typeof token.id !== 'number' || !Number.isInteger(token.id) || token.id < 0) {
      throw new UserError(`'added_tokens[${i}]' must be an object with 'content' (string) and 'id' (non-negative integer); got ${show(token)}`, path);
    }
    vocab.set(token.content, token.id);
  });
  // The library guesses the model from its fields when 'type' is absent; a CLIP tokenizer.json is always BPE.
  const full: Json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json, model: { ...model, type: 'BPE' }, added_tokens: added };
  return { json: full, vocab };
}

/** The id a special token must have: it must be in the vocabulary, with CLIP's id (the text encoder was trained on it). */
function specialId(vocab: Map<string, number>, token: string, expected: number, source: string): number {
  const id = vocab.get(token);
  if (id === undefined) {
    throw new UserError(`the vocabulary has no ${token} (CLIP's ${token === BOS_TOKEN ? 'start' : 'end'} token, id ${expected})`, source);
  }
  if (id !== expected) {
    throw new UserError(`${token} has id ${id} in the vocabulary; CLIP's is ${expected} (not a CLIP vocabulary)`, source);
  }
  return id;
}

/** A token field of tokenizer_config.json / special_tokens_map.json: a string or an AddedToken object ({ content }). */
function tokenField(config: Json, key: string, path: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  throw new UserError(`'${key}' must be a token (a string, or an object with 'content'); got ${show(value)}`, path);
}

async function readConfig(path: string): Promise<Json | undefined> {
  if (!(await isFile(path))) return undefined;
  const json = await readJson(path);
  if (!isObject(json)) throw new UserError(`expected a JSON object; got ${show(json)}`, path);
  return json;
}

/**
 * Reads a Hugging Face CLIP tokenizer folder: tokenizer.json, or vocab.json + merges.txt (+ optional
 * tokenizer_config.json, special_tokens_map.json). tokenizer.json wins when both forms are there.
 */
export async function loadClipTokenizer(folder: string): Promise<ClipTokenizer> {
  const info = await stat(folder).catch(() => undefined);
  if (!info) throw new UserError('the CLIP tokenizer folder does not exist', folder);
  if (!info.isDirectory()) throw new UserError('expected a CLIP tokenizer folder, found a file', folder);

  const tokenizerPath = join(folder, 'tokenizer.json');
  const vocabPath = join(folder, 'vocab.json');
  const mergesPath = join(folder, 'merges.txt');
  let json: Json;
  let vocab: Map<string, number>;
  let source: string;
  let form: string;
  let bos: number;
  let eos: number;
  if (await isFile(tokenizerPath)) {
    ({ json, vocab } = checkTokenizerJson(await readJson(tokenizerPath), tokenizerPath));
    source = tokenizerPath;
    form = 'tokenizer.json';
    bos = specialId(vocab, BOS_TOKEN, CLIP_BOS, source);
    eos = specialId(vocab, EOS_TOKEN, CLIP_EOS, source);
  } else {
    const [hasVocab, hasMerges] = await Promise.all([isFile(vocabPath), isFile(mergesPath)]);
    if (!hasVocab || !hasMerges) {
      const missing = [!hasVocab && 'vocab.json', !hasMerges && 'merges.txt'].filter(Boolean).join(' and ');
      throw new UserError(`no CLIP tokenizer: looked for tokenizer.json, or vocab.json + merges.txt (found neither tokenizer.json nor ${missing})`, folder);
    }
    vocab = parseVocab(await readJson(vocabPath), vocabPath, 'the vocabulary');
    source = vocabPath;
    form = 'vocab.json + merges.txt';
    bos = specialId(vocab, BOS_TOKEN, CLIP_BOS, source);
    eos = specialId(vocab, EOS_TOKEN, CLIP_EOS, source);
    json = clipTokenizerJson(vocab, parseMergesTxt(await readText(mergesPath), vocab, mergesPath), bos, eos);
  }

  // tokenizer_config.json, then special_tokens_map.json (as transformers reads them).
  const configPath = join(folder, 'tokenizer_config.json');
  const mapPath = join(folder, 'special_tokens_map.json');
  const config = await readConfig(configPath);
  const map = await readConfig(mapPath);
  let contextLength = CLIP_CONTEXT;
  const maxLength = config?.model_max_length;
  if (maxLength !== undefined && maxLength !== null) {
    if (typeof maxLength !== 'number' || !(maxLength >= 2) || (maxLength <= ABSURD_MAX_LENGTH && !Number.isInteger(maxLength))) {
      throw new UserError(`'model_max_length' must be an integer ≥ 2 (room for <|startoftext|> and <|endoftext|>); got ${show(maxLength)}`, configPath);
    }
    if (maxLength <= ABSURD_MAX_LENGTH) contextLength = maxLength;
  }
  const fromConfig = config && tokenField(config, 'pad_token', configPath);
  const fromMap = map && tokenField(map, 'pad_token', mapPath);
  const [padToken, padSource] =
    fromConfig !== undefined ? [fromConfig, configPath] : fromMap !== undefined ? [fromMap, mapPath] : [EOS_TOKEN, source];
  const padId = vocab.get(padToken);
  if (padId === undefined) throw new UserError(`'pad_token' ${JSON.stringify(padToken)} is not in the vocabulary (${form})`, padSource);

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config ?? {});
  } catch (error) {
    throw new UserError(`not a tokenizer that @huggingface/tokenizers can run (${(error as Error).message})`, source);
  }
  const maxTokens = contextLength - 2;

  const fill = (text: string, row: Int32Array, offset: number): void => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const n = Math.min(ids.length, maxTokens);
    row[offset] = bos;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new UserError(`a token of ${JSON.stringify(text)} has no id (the vocabulary lacks it and has no unk_token)`, source);
      }
      row[offset + 1 + i] = id;
    }
    row[offset + 1 + n] = eos;
    row.fill(padId, offset + 2 + n, offset + contextLength);
  };

  return {
    contextLength,
    padId,
    description: `CLIP BPE, ${form} (${new Set(vocab.values()).size.toLocaleString('en-US')} tokens), ${contextLength} tokens, pad ${padId}`,
    encode(text) {
      const row = new Int32Array(contextLength);
      fill(text, row, 0);
      return row;
    },
    encodeBatch(texts) {
      const out = new Int32Array(texts.length * contextLength);
      texts.forEach((text, i) => fill(text, out, i * contextLength));
      return out;
    },
  };
}
