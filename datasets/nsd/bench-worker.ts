/**
 * The child process of the `nsd-session` bench (datasets/nsd/bench.ts), run as `node bench-worker.js
 * <write|prepare> <dir> [X Y Z voxels]` (bench-worker.ts through tsx from the sources): in a process of its own so that its peak resident memory is the step's alone.
 * - write: a synthetic full-size NSD session — `/betas` int16 (750, 83, 104, 81), chunks (750, 1, 1, 1), 1.05 GB, as
 *   the official files — and an nsdgeneral-like mask of 15,724 voxels, written the way NSD ships them.
 * - prepare: what the nsd dataset does per session: read the masked betas by hyperslabs, write them to the
 *   session's cache entry (.npy), and convert to float32 percent signal change. Prints one JSON line of timings.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadHdf5 } from '../../core/io/hdf5.js';
import { writeNifti } from '../../core/io/nifti.js';
import { writeNpy } from '../../core/io/npy.js';
import { readMask, readSessionBetas } from './betas.js';
import { requireFile, TRIALS_PER_SESSION } from './layout.js';

/** subj01's 1.8 mm volume, (X, Y, Z), and nsdgeneral's voxel count: the defaults (tests pass smaller ones). */
const [X = 81, Y = 104, Z = 83, VOXELS = 15724] = process.argv.slice(4).map(Number);
const SESSION_SHAPE: [number, number, number] = [X, Y, Z];
const BETAS_FILE = 'betas_session01.hdf5';
const MASK_FILE = 'nsdgeneral.nii.gz';

/** An ellipsoid at the back of the volume, grown until it holds exactly `count` voxels (values 1; −1 elsewhere). */
function ellipsoidMask([nx, ny, nz]: [number, number, number], count: number): Int16Array {
  const centre = [nx / 2, ny * 0.3, nz * 0.45];
  const radius = (x: number, y: number, z: number) =>
    ((x - centre[0]!) / 1.6) ** 2 + (y - centre[1]!) ** 2 + ((z - centre[2]!) / 0.9) ** 2;
  const order = Array.from({ length: nx * ny * nz }, (_, i) => i);
  const r = order.map((i) => radius(i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))));
  order.sort((a, b) => r[a]! - r[b]!);
  const mask = new Int16Array(nx * ny * nz).fill(-1);
  for (let k = 0; k < count; k++) mask[order[k]!] = 1;
  return mask;
}

/** Fills successive z-planes ((750, Y, X) each) with a fixed pseudo-random stream: ±10 % signal change × 300. */
function planeStream(): (plane: Int16Array) => void {
  let state = 0x9e3779b9;
  return (plane) => {
    for (let i = 0; i < plane.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      plane[i] = (state % 3000) | 0;
    }
  };
}

/** Regenerates the stream and counts masked values that differ from what was read (betas: trial-major, V columns). */
function countMismatches(betas: Int16Array, voxels: Int32Array): number {
  const [nx, ny, nz] = SESSION_SHAPE;
  const V = voxels.length;
  const plane = new Int16Array(TRIALS_PER_SESSION * ny * nx);
  const next = planeStream();
  let wrong = 0;
  for (let z = 0; z < nz; z++) {
    next(plane);
    for (let column = 0; column < V; column++) {
      const index = voxels[column]!;
      if (Math.floor(index / (nx * ny)) !== z) continue;
      const inPlane = index % (nx * ny);
      for (let t = 0; t < TRIALS_PER_SESSION; t++) if (betas[t * V + column] !== plane[t * nx * ny + inPlane]) wrong++;
    }
  }
  return wrong;
}

async function write(dir: string): Promise<void> {
  const [nx, ny, nz] = SESSION_SHAPE;
  await mkdir(dir, { recursive: true });
  const affine = [[1.8, 0, 0, 0], [0, 1.8, 0, 0], [0, 0, 1.8, 0], [0, 0, 0, 1]];
  await writeNifti(join(dir, MASK_FILE), { shape: SESSION_SHAPE, data: ellipsoidMask(SESSION_SHAPE, VOXELS), affine });
  const h5 = await loadHdf5();
  const file = new h5.File(join(dir, BETAS_FILE), 'w');
  try {
    // Grown one z-plane at a time: the whole volume never sits in memory (twice, with the WebAssembly heap).
    const plane = new Int16Array(TRIALS_PER_SESSION * ny * nx);
    file.create_dataset({ name: 'betas', data: plane, shape: [TRIALS_PER_SESSION, 1, ny, nx], maxshape: [TRIALS_PER_SESSION, nz, ny, nx], dtype: '<h', chunks: [TRIALS_PER_SESSION, 1, 1, 1] });
    const betas = file.get('betas') as unknown as { resize(shape: number[]): void; write_slice(ranges: Array<[number, number]>, data: Int16Array): void };
    const next = planeStream();
    for (let z = 0; z < nz; z++) {
      next(plane);
      if (z > 0) betas.resize([TRIALS_PER_SESSION, z + 1, ny, nx]);
      betas.write_slice([[0, TRIALS_PER_SESSION], [z, z + 1], [0, ny], [0, nx]], plane);
    }
  } finally {
    file.close();
  }
}

async function prepare(dir: string): Promise<void> {
  const started = performance.now();
  const located = (name: string) => requireFile(dir, name, 'the nsd-session bench');
  const mask = await readMask(located(MASK_FILE), 'brain-diffuser');
  const maskSeconds = (performance.now() - started) / 1000;
  const betas = await readSessionBetas(located(BETAS_FILE), mask, 256 * 1024 * 1024, 'bench session 1');
  const readSeconds = (performance.now() - started) / 1000 - maskSeconds;
  await writeNpy(join(dir, 'cache-betas.npy'), { shape: [TRIALS_PER_SESSION, mask.voxels.length], data: betas });
  const scaled = Float32Array.from(betas, (b) => b / 300);
  const seconds = (performance.now() - started) / 1000;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const mismatches = countMismatches(betas, mask.voxels); // after timing: a check, not part of the work
  const result = {
    voxels: mask.voxels.length,
    trials: TRIALS_PER_SESSION,
    maskSeconds,
    readSeconds,
    seconds,
    peakRssBytes,
    mismatches,
    finite: scaled.every(Number.isFinite),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const [mode, dir] = process.argv.slice(2);
if (!dir || (mode !== 'write' && mode !== 'prepare')) {
  process.stderr.write('usage: bench-worker.ts <write|prepare> <dir> [X Y Z voxels]\n');
  process.exit(2);
}
await (mode === 'write' ? write(dir) : prepare(dir));
