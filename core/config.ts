/** Run configuration: flags win over `neurodecode.config.json`, which wins over defaults. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from './errors.js';
import { validateWithSchema } from './validation.js';

export const CONFIG_FILE = 'neurodecode.config.json';
export const DEFAULT_CACHE_DIR = '.neurodecode/cache';

export interface CoreConfig {
  cwd: string;
  /** Cache root, or null for `--no-cache`. */
  cacheDir: string | null;
  /** External plugins: paths or npm package names. */
  plugins: string[];
  /** TensorFlow.js backend preference (`auto` when unset). */
  backend?: string;
  verbose: boolean;
  /** Named model folders from the config file: name → absolute folder (relative ones resolved against its folder). */
  models?: Record<string, string>;
  /** NEURODECODE_MODELS: a folder whose sub-folders are models named after them. */
  modelsDir?: string;
  /**
   * Target spaces wider than this are streamed to disk in blocks of this many columns and fitted a block at a time
   * by mappers that can (core/column-blocks.ts); default DEFAULT_TARGET_BLOCK_COLUMNS.
   */
  targetBlockColumns?: number;
}

/** 8,192 columns: a block of NSD's 8,859 training rows is 290 MB; CLIP-vision's 197,376 columns are 25 blocks. */
export const DEFAULT_TARGET_BLOCK_COLUMNS = 8192;

interface ConfigFile {
  plugins?: string[];
  targetBlockColumns?: number;
  cacheDir?: string;
  backend?: string;
  models?: Record<string, string>;
}

export const MODELS_ENV = 'NEURODECODE_MODELS';

const configFileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    plugins: { type: 'array', items: { type: 'string' }, description: 'external plugins: paths or npm package names' },
    cacheDir: { type: 'string' },
    backend: { enum: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] },
    targetBlockColumns: {
      type: 'integer',
      minimum: 1,
      description: 'target spaces wider than this stream from disk in blocks of this many columns (default 8192)',
    },
    models: {
      type: 'object',
      description: 'pretrained model folders: name → folder path (relative to this file)',
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
      additionalProperties: { type: 'string', minLength: 1 },
    },
  },
};

export function readConfigFile(cwd: string): ConfigFile {
  const path = join(cwd, CONFIG_FILE);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, path);
  }
  return validateWithSchema<ConfigFile>(configFileSchema, parsed, path);
}

export interface ConfigFlags {
  cacheDir?: string;
  noCache?: boolean;
  plugins?: string[];
  backend?: string;
  verbose?: boolean;
}

export function resolveConfig(flags: ConfigFlags, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): CoreConfig {
  const file = readConfigFile(cwd);
  const modelsDir = env[MODELS_ENV];
  const cacheDir = flags.noCache ? null : resolve(cwd, flags.cacheDir ?? file.cacheDir ?? DEFAULT_CACHE_DIR);
  return {
    cwd,
    cacheDir,
    plugins: [...(file.plugins ?? []), ...(flags.plugins ?? [])],
    backend: flags.backend ?? file.backend,
    verbose: flags.verbose ?? false,
    models: Object.fromEntries(Object.entries(file.models ?? {}).map(([name, dir]) => [name, resolve(cwd, dir)])),
    modelsDir: modelsDir ? resolve(cwd, modelsDir) : undefined,
    ...(file.targetBlockColumns === undefined ? {} : { targetBlockColumns: file.targetBlockColumns }),
  };
}
