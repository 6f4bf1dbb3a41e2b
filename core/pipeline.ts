/** Pipeline and experiment specifications (JSON, schema-validated). */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';
import { expandMetricSets } from './metric-sets.js';
import { validateWithSchema } from './validation.js';

/** A plugin named by id, with options for it. */
export interface PluginRef {
  id: string;
  options: Record<string, unknown>;
  /** Folder of the file that names this plugin: its relative path options are relative to it (core/paths.ts). */
  baseDir?: string;
  /** The metric set (core/metric-sets.ts) a metric came from, for messages. */
  set?: string;
  /**
   * Mappers only: the atlas ROIs whose voxels the mapper sees (their union); a list for every dataset, or a list per
   * dataset id, since datasets name their ROIs differently (core/mapper-rois.ts).
   */
  rois?: MapperRois;
}

export type MapperRois = string[] | Record<string, string[]>;

export interface PipelineSpec {
  name: string;
  dataset: PluginRef;
  /** Subjects to run; empty means the dataset's first subject, `["all"]` every usable subject. */
  subjects: string[];
  generator: PluginRef;
  /** One mapper per target space of the generator; the key `*` applies to every space not named. */
  mappers: Record<string, PluginRef>;
  metrics: PluginRef[];
  seed: number;
  /**
   * How many test items the trivial predictor's images are generated for: `auto` = all of them, unless the
   * generator is costly (a diffusion model: then a seeded subset of DEFAULT_TRIVIAL_ITEMS), or a number, or `all`.
   */
  trivialItems: number | 'all' | 'auto';
  /** Where it was defined (`p.json`, `e.json pipelines[1]`), for errors found after parsing. */
  source?: string;
  /** A preset's pipeline: its name in the preset file, which its published values are keyed on (cli/presets.ts). */
  method?: string;
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

const roiList = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true };

/** A mapper may also restrict its input to atlas ROIs: `{ "id": "ridge", "rois": ["early"] }`. */
const mapperRef = {
  anyOf: [
    pluginRef.anyOf[0],
    {
      ...pluginRef.anyOf[1],
      properties: {
        ...pluginRef.anyOf[1]!.properties,
        rois: { anyOf: [roiList, { type: 'object', minProperties: 1, additionalProperties: roiList }] },
      },
    },
  ],
};

/** Seeds drive 32-bit generators: a larger one would be silently taken modulo 2³². */
export const MAX_SEED = 2 ** 32 - 1;

export const pipelineSchema = {
  type: 'object',
  required: ['dataset', 'generator', 'mappers', 'metrics'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    dataset: pluginRef,
    subjects: { type: 'array', items: { type: 'string' }, default: [] },
    generator: pluginRef,
    mappers: { type: 'object', minProperties: 1, additionalProperties: mapperRef },
    metrics: { type: 'array', items: pluginRef, minItems: 1 },
    seed: { type: 'integer', minimum: 0, maximum: MAX_SEED, default: 0 },
    trivialItems: { anyOf: [{ type: 'integer', minimum: 1 }, { enum: ['all', 'auto'] }], default: 'auto' },
  },
};

/** The trivial floor of a costly generator is generated for this many seeded test items by default. */
export const DEFAULT_TRIVIAL_ITEMS = 24;

const experimentSchema = {
  type: 'object',
  required: ['pipelines'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    pipelines: { type: 'array', minItems: 1, items: { type: 'object' } },
  },
};

type RawRef = string | { id: string; options?: Record<string, unknown>; rois?: MapperRois };
interface RawPipeline {
  name?: string;
  dataset: RawRef;
  subjects: string[];
  generator: RawRef;
  mappers: Record<string, RawRef>;
  metrics: RawRef[];
  seed: number;
  trivialItems: number | 'all' | 'auto';
}

function ref(raw: RawRef, baseDir?: string): PluginRef {
  const plain: PluginRef = typeof raw === 'string' ? { id: raw, options: {} } : { id: raw.id, options: raw.options ?? {} };
  if (typeof raw !== 'string' && raw.rois !== undefined) plain.rois = raw.rois;
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
    metrics: expandMetricSets(raw.metrics.map((m) => ref(m)), where).map(({ id, options, set }) => ({ ...at({ id, options }), ...(set ? { set } : {}) })),
    seed: raw.seed,
    trivialItems: raw.trivialItems,
    source: where,
  };
}

/** Pipeline names label table rows, grid columns and per-item results: two pipelines must not share one. */
function checkUniqueNames(pipelines: PipelineSpec[]): void {
  const seen = new Map<string, PipelineSpec>();
  for (const p of pipelines) {
    const first = seen.get(p.name);
    if (first) {
      throw new UserError(`two pipelines are named '${p.name}', in ${first.source} and in ${p.source}: give one of them another "name"`);
    }
    seen.set(p.name, p);
  }
}

/** The pipelines of several spec files as one experiment (what `compare` runs); names must be unique across them. */
export function combineSpecs(specs: ExperimentSpec[]): ExperimentSpec {
  const pipelines = specs.flatMap((s) => s.pipelines);
  checkUniqueNames(pipelines);
  return { name: specs.map((s) => s.name).join(' vs '), pipelines };
}

/** A file holds either one pipeline or an experiment `{ name, pipelines: [...] }`. */
export function parseSpecFile(value: unknown, where: string, baseDir?: string): ExperimentSpec {
  if (value !== null && typeof value === 'object' && 'pipelines' in value) {
    const raw = validateWithSchema<{ name?: string; pipelines: unknown[] }>(experimentSchema, value, where);
    const pipelines = raw.pipelines.map((p, i) => parsePipeline(p, `${where} pipelines[${i}]`, baseDir));
    checkUniqueNames(pipelines);
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

/**
 * Checks a pipeline's `mappers` against the target spaces of its generator: every key names a space (or is `*`),
 * and every space has a mapper. The error names the pipeline's file and the field.
 */
export function checkMapperSpaces(pipeline: PipelineSpec, spaces: readonly string[]): void {
  const where = pipeline.source ?? `pipeline '${pipeline.name}'`;
  const generator = `generator '${pipeline.generator.id}'`;
  for (const key of Object.keys(pipeline.mappers)) {
    if (key !== '*' && !spaces.includes(key)) {
      throw new UserError(`/mappers: '${key}' is not a target space of ${generator} (its spaces: ${spaces.join(', ')}; or use "*")`, where);
    }
  }
  for (const space of spaces) {
    if (!(space in pipeline.mappers) && !('*' in pipeline.mappers)) {
      throw new UserError(`/mappers: no mapper for target space '${space}' of ${generator} (name it in "mappers", or use "*")`, where);
    }
  }
}
