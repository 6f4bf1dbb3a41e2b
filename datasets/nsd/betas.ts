/**
 * Masked single-trial betas of one session. HDF5 `/betas` is int16 (750, Z, Y, X) in C order, i.e. the same flat
 * order as the NIfTI (X, Y, Z, 750) file (x fastest). NSD chunks it (750, 1, 1, 1), so the mask voxels are read as
 * small hyperslabs — one per run of nearby voxels along x — never the whole 1 GB volume.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../core/errors.js';
import { withHdf5 } from '../../core/io/hdf5.js';
import { checkNiftiComplete, maskVoxelsInNibabelOrder, readNifti } from '../../core/io/nifti.js';
import type { LocatedFile } from './layout.js';
import { TRIALS_PER_SESSION } from './layout.js';
import type { VoxelOrder } from './schema.js';

export interface Mask {
  /** (X, Y, Z) as in the NIfTI header. */
  shape: [number, number, number];
  /** File-order (x fastest) index of each selected voxel, in column order. */
  voxels: Int32Array;
  /** Hash of shape + voxels (cache keys). */
  hash: string;
}

export async function readMask(file: LocatedFile, order: VoxelOrder): Promise<Mask> {
  const volume = await readNifti(file.path);
  const [x = 1, y = 1, z = 1] = volume.header.shape;
  const shape: [number, number, number] = [x, y, z];
  let voxels: Int32Array;
  if (order === 'brain-diffuser') voxels = maskVoxelsInNibabelOrder(volume.data, shape);
  else {
    const found: number[] = [];
    for (let i = 0; i < x * y * z; i++) if (volume.data[i]! > 0) found.push(i);
    voxels = Int32Array.from(found);
  }
  if (voxels.length === 0) throw new UserError('mask selects no voxel (expected values > 0)', file.relative);
  const hash = createHash('sha256').update(JSON.stringify(shape)).update(new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength)).digest('hex').slice(0, 24);
  return { shape, voxels, hash };
}

/** [first, end) file-order index ranges along x, covering sorted voxels; nearby voxels (gap ≤ maxGap) share one. */
export function planRuns(sorted: Int32Array, nx: number, maxWidth: number, maxGap = 4): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const index of sorted) {
    const last = runs.at(-1);
    const sameRow = last !== undefined && Math.floor(last[0] / nx) === Math.floor(index / nx);
    if (last && sameRow && index - last[1] <= maxGap && index + 1 - last[0] <= maxWidth) last[1] = index + 1;
    else runs.push([index, index + 1]);
  }
  return runs;
}

function mismatch(file: LocatedFile, found: string, mask: Mask, neededBy: string): UserError {
  return new UserError(`betas have spatial shape ${found} but the mask is ${mask.shape.join('×')} (X×Y×Z); both must come from the same subject and resolution (${neededBy})`, file.relative);
}

/**
 * Opens a session file's header only (HDF5 metadata, or the NIfTI header and length) and checks it against the
 * mask, so that `describe` reports a missing, truncated or mismatched betas file before hours of preparation.
 */
export async function checkSessionFile(file: LocatedFile, mask: Mask, neededBy: string): Promise<void> {
  const [nx, ny, nz] = mask.shape;
  // Errors of the file readers name the absolute path: say which session needed the file instead.
  const named = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof UserError) || error.where !== file.path) throw error;
      throw new UserError(`${error.message.slice(file.path.length + 2)} (${neededBy})`, file.relative);
    }
  };
  if (file.relative.endsWith('.hdf5')) {
    const shape = await named(() => withHdf5(file.path, (h5) => (h5.kind('/betas') === 'dataset' ? h5.info('/betas').shape : undefined)));
    if (!shape) throw new UserError(`no dataset '/betas' (${neededBy})`, file.relative);
    const [trials, z, y, x] = shape;
    if (trials !== TRIALS_PER_SESSION) throw new UserError(`'/betas' has ${trials} trials, expected 750 (${neededBy})`, file.relative);
    if (x !== nx || y !== ny || z !== nz) throw mismatch(file, `${x}×${y}×${z}`, mask, neededBy);
    return;
  }
  const header = await named(() => checkNiftiComplete(file.path));
  const [x, y, z, trials] = header.shape;
  if (x !== nx || y !== ny || z !== nz) throw mismatch(file, `${x}×${y}×${z}`, mask, neededBy);
  if (trials !== TRIALS_PER_SESSION) throw new UserError(`has ${trials ?? 1} volumes, expected 750 trials (${neededBy})`, file.relative);
}

/** The session's masked betas, raw int16, trial-major: out[t · V + column]. */
export async function readSessionBetas(file: LocatedFile, mask: Mask, maxBytes: number, neededBy: string): Promise<Int16Array> {
  const V = mask.voxels.length;
  const out = new Int16Array(TRIALS_PER_SESSION * V);
  const columnOf = new Map<number, number>();
  mask.voxels.forEach((index, column) => columnOf.set(index, column));
  const sorted = Int32Array.from(mask.voxels).sort();
  const [nx, ny, nz] = mask.shape;
  if (file.relative.endsWith('.hdf5')) {
    await withHdf5(file.path, (h5) => {
      const info = h5.info('/betas');
      const [trials, z, y, x] = info.shape;
      if (info.shape.length !== 4 || trials !== TRIALS_PER_SESSION) {
        throw new UserError(`'/betas' has shape (${info.shape.join(', ')}), expected (750, Z, Y, X)`, file.relative);
      }
      if (x !== nx || y !== ny || z !== nz) throw mismatch(file, `${x}×${y}×${z}`, mask, neededBy);
      if (info.dtype !== 'int16') throw new UserError(`'/betas' is ${info.dtype}, expected int16 (percent signal change × 300)`, file.relative);
      const maxWidth = Math.max(1, Math.floor(maxBytes / (TRIALS_PER_SESSION * 2)));
      for (const [start, end] of planRuns(sorted, nx, maxWidth)) {
        const row = Math.floor(start / nx);
        const [yy, zz, x0] = [row % ny, Math.floor(row / ny), start % nx];
        const width = end - start;
        const block = h5.readSlice('/betas', [[0, TRIALS_PER_SESSION], zz, yy, [x0, x0 + width]], { maxBytesPerRead: maxBytes }) as Int16Array;
        for (let k = 0; k < width; k++) {
          const column = columnOf.get(start + k);
          if (column === undefined) continue;
          for (let t = 0; t < TRIALS_PER_SESSION; t++) out[t * V + column] = block[t * width + k]!;
        }
      }
    });
    return out;
  }
  const volume = await readNifti(file.path);
  const [x, y, z, trials] = volume.header.shape;
  if (x !== nx || y !== ny || z !== nz) throw mismatch(file, `${x}×${y}×${z}`, mask, neededBy);
  if (trials !== TRIALS_PER_SESSION) throw new UserError(`has ${trials ?? 1} volumes, expected 750 trials`, file.relative);
  if (!(volume.data instanceof Int16Array)) throw new UserError(`holds ${volume.header.datatype}${volume.scaled ? ' (scaled)' : ''}, expected int16`, file.relative);
  const N = nx * ny * nz;
  mask.voxels.forEach((index, column) => {
    for (let t = 0; t < TRIALS_PER_SESSION; t++) out[t * V + column] = (volume.data as Int16Array)[t * N + index]!;
  });
  return out;
}
