/**
 * A mapper's ROI restriction (`"mappers": { "z": { "id": "ridge", "rois": ["early"] } }`): the mapper is fitted and
 * predicts on the columns of X in those atlas ROIs only — Takagi's early stream → z, ventral stream → c.
 */
import { UserError } from './errors.js';
import { takeCols, type Matrix } from './tensor.js';
import type { PipelineSpec, PluginRef } from './pipeline.js';

export interface RoiSelection {
  rois: string[];
  /** Kept columns of X, sorted ascending (the union of the ROIs). */
  columns: Int32Array;
  /** The dataset's atlas re-indexed to the kept columns (ROIs left with no column dropped). */
  atlas: Record<string, Int32Array>;
}

/** The ROI names a mapper ref asks for on this dataset; undefined: every column. */
function roisFor(ref: PluginRef, datasetId: string, where: string, key: string): string[] | undefined {
  if (ref.rois === undefined) return undefined;
  if (Array.isArray(ref.rois)) return ref.rois;
  const rois = ref.rois[datasetId];
  if (rois === undefined) {
    throw new UserError(`/mappers/${key}/rois: no ROIs for dataset '${datasetId}' (given for ${Object.keys(ref.rois).join(', ')})`, where);
  }
  return rois;
}

/**
 * The columns mapper `key` of the pipeline sees. An unknown ROI is an error naming the pipeline's file, the mapper
 * key and the dataset's ROI names, so that a typo or another dataset's name is fixed at once.
 */
export function selectRois(pipeline: PipelineSpec, key: string, atlas: Readonly<Record<string, ArrayLike<number>>>): RoiSelection | undefined {
  const ref = pipeline.mappers[key];
  if (!ref) throw new Error(`internal: no mapper '${key}'`);
  const where = pipeline.source ?? `pipeline '${pipeline.name}'`;
  const rois = roisFor(ref, pipeline.dataset.id, where, key);
  if (rois === undefined) return undefined;
  const known = Object.keys(atlas);
  const unknown = rois.filter((r) => !Object.hasOwn(atlas, r));
  if (unknown.length > 0) {
    const has = known.length > 0 ? `its ROIs: ${known.join(', ')}` : 'it has no ROI atlas';
    throw new UserError(`/mappers/${key}/rois: dataset '${pipeline.dataset.id}' has no ROI ${unknown.map((r) => `'${r}'`).join(', ')} (${has})`, where);
  }
  const kept = new Set<number>();
  for (const roi of rois) for (const c of Array.from(atlas[roi]!)) kept.add(c);
  if (kept.size === 0) throw new UserError(`/mappers/${key}/rois: ${rois.join(', ')} hold no voxel in dataset '${pipeline.dataset.id}'`, where);
  const columns = Int32Array.from([...kept].sort((a, b) => a - b));
  const position = new Map(Array.from(columns, (c, i) => [c, i] as const));
  const reindexed: Record<string, Int32Array> = {};
  for (const name of known) {
    const inside = Array.from(atlas[name]!).flatMap((c) => (position.has(c) ? [position.get(c)!] : []));
    if (inside.length > 0) reindexed[name] = Int32Array.from(inside);
  }
  return { rois, columns, atlas: reindexed };
}

/** Checks every mapper's ROIs against the atlas (before any long step), whichever spaces they end up serving. */
export function checkMapperRois(pipeline: PipelineSpec, atlas: Readonly<Record<string, ArrayLike<number>>>): void {
  for (const key of Object.keys(pipeline.mappers)) selectRois(pipeline, key, atlas);
}

/** The given columns of a matrix, in that order. */
/** The same restricted matrices for the same columns (by value), so that mappers sharing ROIs share them too. */
const restricted = new WeakMap<Matrix, Map<string, Matrix>>();

/**
 * Columns `columns` of `m`, made once per (matrix, columns): mappers of one subject restricted to the same ROIs get
 * the same object, so that ridge's kernel and test-side solve (keyed on the matrices' identity) are shared by them.
 */
export function takeColumns(m: Matrix, columns: Int32Array): Matrix {
  let byColumns = restricted.get(m);
  if (!byColumns) restricted.set(m, (byColumns = new Map()));
  const key = columns.join(',');
  let out = byColumns.get(key);
  if (!out) byColumns.set(key, (out = takeCols(m, columns)));
  return out;
}
