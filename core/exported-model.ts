/**
 * A fitted mapper outside a comparison: what the runner records of each fitted mapper (in results.json), and the
 * exported-model folder `neurodecode export` writes and `neurodecode predict` reads:
 *
 *   <space>/mapper.json   this format: the mapper, its plugin, the space, the voxel columns, where it came from
 *   <space>/model/        the files of the mapper's `save` (its factory's `load` reads them), copied from the cache
 *
 * The voxel columns matter: the runner drops unusable voxels and may restrict a mapper to ROIs, so new fMRI (items ×
 * the dataset's voxels, as its plugin delivers them) must be cut to the very columns the mapper was fitted on.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors.js';
import type { Matrix } from './tensor.js';
import { validateWithSchema } from './validation.js';

export const EXPORTED_MODEL_FORMAT = 'neurodecode-exported-mapper/1';
export const MAPPER_FILE = 'mapper.json';
/** The mapper's own files, in a folder of their own so that no name of theirs can clash with mapper.json. */
export const MODEL_FOLDER = 'model';

/** Columns as ascending, disjoint [start, end) ranges: a few numbers for the usual long runs of kept voxels. */
export type ColumnRanges = Array<[start: number, end: number]>;

/** Which of a dataset's voxel columns (before preprocessing) a mapper saw, in the order it saw them. */
export interface VoxelColumns {
  /** The dataset's voxels per item for this subject: the width new fMRI must have. */
  of: number;
  ranges: ColumnRanges;
  /** The ROIs the pipeline restricted the mapper to. */
  rois?: string[];
}

/** What the runner records of one fitted mapper (MapperOutcome.model), so that `export` can take it out of the cache. */
export interface FittedMapperRecord {
  /** Key of its `mappers` cache entry (the key it would have had, with --no-cache). */
  key: string;
  options: Record<string, unknown>;
  plugin: string;
  version: string;
  code?: string;
  dims: number;
  voxels: VoxelColumns;
}

export interface ExportedMapper {
  format: typeof EXPORTED_MODEL_FORMAT;
  mapper: { id: string; options: Record<string, unknown>; plugin: string; version: string; code?: string };
  space: { name: string; dims: number };
  voxels: VoxelColumns;
  dataset: { id: string; options: Record<string, unknown>; subject: string; plugin?: string; version?: string };
  generator?: { id: string; options: Record<string, unknown>; plugin?: string; version?: string };
  source: { run: string; experiment: string; pipeline: string; neurodecode: string; cacheKey: string; exported: string };
  /** Size and SHA-256 of every file under model/, checked before the model is loaded. */
  files: Record<string, { size: number; sha256: string }>;
}

export function toRanges(columns: ArrayLike<number>): ColumnRanges {
  const out: ColumnRanges = [];
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const last = out[out.length - 1];
    if (last && last[1] === c) last[1] = c + 1;
    else out.push([c, c + 1]);
  }
  return out;
}

export function fromRanges(ranges: ColumnRanges): Int32Array {
  const out = new Int32Array(ranges.reduce((n, [s, e]) => n + (e - s), 0));
  let k = 0;
  for (const [s, e] of ranges) for (let c = s; c < e; c++) out[k++] = c;
  return out;
}

const named = { type: 'object', required: ['id', 'options'], properties: { id: { type: 'string', minLength: 1 }, options: { type: 'object' } } };
const schema = {
  type: 'object',
  required: ['format', 'mapper', 'space', 'voxels', 'dataset', 'source', 'files'],
  properties: {
    format: { const: EXPORTED_MODEL_FORMAT },
    mapper: { ...named, required: ['id', 'options', 'plugin', 'version'], properties: { ...named.properties, plugin: { type: 'string' }, version: { type: 'string' }, code: { type: 'string' } } },
    space: { type: 'object', required: ['name', 'dims'], properties: { name: { type: 'string', minLength: 1 }, dims: { type: 'integer', minimum: 1 } } },
    voxels: {
      type: 'object',
      required: ['of', 'ranges'],
      properties: {
        of: { type: 'integer', minimum: 1 },
        ranges: { type: 'array', minItems: 1, items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', minimum: 0 } } },
        rois: { type: 'array', items: { type: 'string' } },
      },
    },
    dataset: { ...named, required: ['id', 'options', 'subject'], properties: { ...named.properties, subject: { type: 'string' } } },
    generator: named,
    source: { type: 'object' },
    files: { type: 'object', additionalProperties: { type: 'object', required: ['size', 'sha256'], properties: { size: { type: 'integer' }, sha256: { type: 'string' } } } },
  },
};

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** mapper.json of an exported folder, checked (schema, ranges inside the width, every model file intact). */
export async function readExportedMapper(folder: string): Promise<ExportedMapper> {
  const file = join(folder, MAPPER_FILE);
  if (!existsSync(file)) {
    const what = existsSync(folder) ? `has no ${MAPPER_FILE}` : 'does not exist';
    throw new UserError(`not an exported model folder: it ${what} (\`neurodecode export --run <results folder>\` writes <out>/<pipeline>/<subject>/<space>/ folders)`, folder);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError(`not valid JSON (${(error as Error).message})`, file);
  }
  const model = validateWithSchema<ExportedMapper>(schema, json, file);
  let previous = 0;
  for (const [i, [start, end]] of model.voxels.ranges.entries()) {
    if (start < previous || end <= start || end > model.voxels.of) {
      throw new UserError(`/voxels/ranges/${i}: [${start}, ${end}) is not an ascending range inside 0..${model.voxels.of}`, file);
    }
    previous = end;
  }
  for (const [name, expected] of Object.entries(model.files)) {
    const path = join(folder, MODEL_FOLDER, name);
    if (!existsSync(path)) throw new UserError(`${MODEL_FOLDER}/${name}, listed in /files, is missing`, folder);
    const size = (await stat(path)).size;
    if (size !== expected.size || (await sha256File(path)) !== expected.sha256) {
      throw new UserError(`${MODEL_FOLDER}/${name} does not match its size and SHA-256 in ${MAPPER_FILE} (altered or truncated): export it again`, folder);
    }
  }
  return model;
}

/**
 * The mapper's input from new fMRI (items × the dataset's voxels): the recorded columns, in order. A wrong width or
 * a non-finite value in a used column is an error naming `source` and the column of the original matrix.
 */
export function mapperInput(fmri: Matrix, voxels: VoxelColumns, source: string): Matrix {
  if (fmri.cols !== voxels.of) {
    throw new UserError(`${fmri.cols} voxel columns per item, but the model expects ${voxels.of} (the dataset's voxels for its subject, before preprocessing)`, source);
  }
  if (fmri.rows === 0) throw new UserError('no items (0 rows)', source);
  const columns = fromRanges(voxels.ranges);
  const out = new Float32Array(fmri.rows * columns.length);
  for (let r = 0; r < fmri.rows; r++) {
    const base = r * fmri.cols;
    for (let k = 0; k < columns.length; k++) {
      const v = fmri.data[base + columns[k]!]!;
      if (!Number.isFinite(v)) throw new UserError(`non-finite value (${v}) at row ${r}, column ${columns[k]}, a voxel the model uses`, source);
      out[r * columns.length + k] = v;
    }
  }
  return { rows: fmri.rows, cols: columns.length, data: out };
}
