/**
 * `sub-XX_ResponseData.h5`: a pandas fixed-format HDFStore, key `ResponseData`, holding a DataFrame with one row per
 * voxel and the columns `voxel_id` + one float column per trial. pandas stores each dtype block transposed
 * (`write_array` writes `values.T`, attribute `transposed`), so on disk the float block is voxels × trials and the
 * `voxel_id` block is voxels × 1 (int64). Verified by writing a frame with pandas 1.5.3 `to_hdf(format='fixed')`
 * (test/fixtures/things-fmri/pandas/). The trial column names (`block0_items`) may be pickled Python objects, so
 * they are never read: column i is row i of the StimulusMetadata table.
 */
import { UserError } from '../../core/errors.js';
import type { Hdf5File } from '../../core/io/hdf5.js';

export const PANDAS_KEY = '/ResponseData';

export interface ResponseLayout {
  /** Dataset path of the float block (voxels × trials). */
  valuesPath: string;
  voxels: number;
  trials: number;
  itemSize: number;
  /** Voxel ids in row order, when the frame has a `voxel_id` column. */
  voxelIds: number[] | null;
}

function stringsOrNull(file: Hdf5File, path: string): string[] | null {
  try {
    return file.info(path).dtype === 'string' ? file.readStrings(path) : null;
  } catch {
    return null;
  }
}

export function responseLayout(file: Hdf5File): ResponseLayout {
  if (file.kind(PANDAS_KEY) !== 'group') {
    const keys = file.list('/').map((e) => e.name);
    throw new UserError(`no pandas key 'ResponseData' (expected the group '/ResponseData'; found: ${keys.join(', ') || 'nothing'})`, file.path);
  }
  const blocks = file.list(PANDAS_KEY).filter((e) => /^block\d+_values$/.test(e.name) && e.kind === 'dataset');
  let values: { path: string; shape: number[]; itemSize: number } | undefined;
  let idsPath: string | undefined;
  for (const block of blocks) {
    const info = file.info(block.path);
    const items = stringsOrNull(file, block.path.replace(/_values$/, '_items'));
    if (items?.length === 1 && items[0] === 'voxel_id') idsPath = block.path;
    else if ((info.dtype === 'float64' || info.dtype === 'float32') && info.shape.length === 2) {
      if (values !== undefined) throw new UserError(`more than one float block under '/ResponseData' (${values.path}, ${block.path}); expected one block of trial columns`, file.path);
      values = { path: block.path, shape: info.shape, itemSize: info.itemSize };
    }
  }
  if (!values) {
    throw new UserError(`no float block under '/ResponseData' (found ${blocks.map((b) => b.name).join(', ') || 'no blockN_values'}); expected pandas' fixed format`, file.path);
  }
  // Before any read: a filter h5wasm lacks would give garbage, not an error.
  file.checkFilters(values.path);
  let voxelIds: number[] | null = null;
  if (idsPath !== undefined) {
    file.checkFilters(idsPath);
    const raw = file.read(idsPath);
    voxelIds = Array.from(raw as ArrayLike<number | bigint>, (v) => Number(v));
  }
  const [voxels, trials] = values.shape as [number, number];
  if (voxelIds && voxelIds.length !== voxels) {
    throw new UserError(`'/ResponseData' has ${voxels} voxel rows but ${voxelIds.length} voxel ids`, file.path);
  }
  return { valuesPath: values.path, voxels, trials, itemSize: values.itemSize, voxelIds };
}

export interface Slab {
  /** First and one-past-last voxel row read. */
  start: number;
  end: number;
  /** Rows start..end-1, each `trials` values. */
  data: Float64Array;
}

/**
 * Groups sorted voxel rows into contiguous slabs below `maxBytes`; nearby rows (gap ≤ `maxGap`) share a slab because
 * one larger read beats many small ones.
 */
export function planSlabs(rows: ArrayLike<number>, rowBytes: number, maxBytes: number, maxGap = 8): Array<[number, number]> {
  const maxRows = Math.max(1, Math.floor(maxBytes / rowBytes));
  const slabs: Array<[number, number]> = [];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const last = slabs.at(-1);
    if (last && r - last[1] <= maxGap && r + 1 - last[0] <= maxRows) last[1] = r + 1;
    else slabs.push([r, r + 1]);
  }
  return slabs;
}

/** Reads the planned slabs one at a time (never the whole matrix) and hands each to `use`. */
export function readSlabs(file: Hdf5File, layout: ResponseLayout, slabs: Array<[number, number]>, maxBytes: number, use: (slab: Slab) => void): void {
  for (const [start, end] of slabs) {
    const raw = file.readSlice(layout.valuesPath, [[start, end], [0, layout.trials]], { maxBytesPerRead: maxBytes });
    const data = raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number>);
    use({ start, end, data });
  }
}
