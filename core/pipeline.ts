/** Pipeline and experiment specifications (JSON, schema-validated). */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';
import { validateWithSchema } from './validation.js';

/** A plugin named by id, with options for it. */
export interface PluginRef {
  id: string;
  options: Record<string, unknown>;
  /** Folder of the file that names this plugin: its relative path options are relative to it (core/paths.ts). */
  baseDir?: string;
}

export interface PipelineSpec {
  name: string;
  dataset: PluginRef;
  /** Subjects to run; empty means the dataset's first subject. */
  subjects: string[];
  generator: PluginRef;
  /** One mapper per target space of the generator; the key `*` applies to every space not named. */
  mappers: Record<string, PluginRef>;
  metrics: PluginRef[];
  seed: number;
}

export interface ExperimentSpec {
  name: string;
  pipelines: PipelineSpec[];
}

const pluginRef = {
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1 }, options: { type: 'object', default: {} } },
    },
  ],
};

export const pipelineSchema = {
  type: 'object',
  required: ['dataset', 'generator', 'mappers'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    dataset: pluginRef,
    subjects: { type: 'array', items: { type: 'string' }, default: [] },
    generator: pluginRef,
    mappers: { type: 'object', minProperties: 1, additionalProperties: pluginRef },
    metrics: { type: 'array', items: pluginRef, default: [] },
    seed: { type: 'integer', minimum: 0, default: 0 },
  },
};

const experimentSchema = {
  type: 'object',
  required: ['pipelines'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    pipelines: { type: 'array', minItems: 1, items: { type: 'object' } },
  },
};

type RawRef = string | { id: string; options?: Record<string, unknown> };
interface RawPipeline {
  name?: string;
  dataset: RawRef;
  subjects: string[];
  generator: RawRef;
  mappers: Record<string, RawRef>;
  metrics: RawRef[];
  seed: number;
}

function ref(raw: RawRef, baseDir?: string): PluginRef {
  const plain = typeof raw === 'string' ? { id: raw, options: {} } : { id: raw.id, options: raw.options ?? {} };
  return baseDir === undefined ? plain : { ...plain, baseDir };
}

function defaultName(p: RawPipeline): string {
  const mappers = [...new Set(Object.values(p.mappers).map((m) => ref(m).id))].join('+');
  return `${mappers}→${ref(p.generator).id}`;
}

/**
 * Validates a pipeline object, filling defaults; `where` names its file for errors, `baseDir` is its folder (relative
 * path options of its plugins are relative to it; without it, to the working directory).
 */
export function parsePipeline(value: unknown, where: string, baseDir?: string): PipelineSpec {
  const raw = validateWithSchema<RawPipeline>(pipelineSchema, value, where);
  const at = (r: RawRef) => ref(r, baseDir);
  return {
    name: raw.name ?? defaultName(raw),
    dataset: at(raw.dataset),
    subjects: raw.subjects,
    generator: at(raw.generator),
    mappers: Object.fromEntries(Object.entries(raw.mappers).map(([space, m]) => [space, at(m)])),
    metrics: raw.metrics.map(at),
    seed: raw.seed,
  };
}

/** A file holds either one pipeline or an experiment `{ name, pipelines: [...] }`. */
export function parseSpecFile(value: unknown, where: string, baseDir?: string): ExperimentSpec {
  if (value !== null && typeof value === 'object' && 'pipelines' in value) {
    const raw = validateWithSchema<{ name?: string; pipelines: unknown[] }>(experimentSchema, value, where);
    const pipelines = raw.pipelines.map((p, i) => parsePipeline(p, `${where} pipelines[${i}]`, baseDir));
    return { name: raw.name ?? pipelines.map((p) => p.name).join(' vs '), pipelines };
  }
  const pipeline = parsePipeline(value, where, baseDir);
  return { name: pipeline.name, pipelines: [pipeline] };
}

export async function readSpecFile(path: string): Promise<ExperimentSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UserError('cannot read the pipeline file', path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, path);
  }
  return parseSpecFile(value, path, dirname(resolve(path)));
}
