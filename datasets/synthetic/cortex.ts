/**
 * A simulated visual cortex for one subject. Retinotopic voxels (V1, V2, V3, hV4) pool image features over
 * Gaussian receptive fields that grow from V1 to hV4 and with eccentricity; V1 prefers one orientation, hV4
 * colour. Higher voxels (LO, cat-<category>) read position-invariant features and the object's category. Every
 * voxel's drive goes through rectification and divisive (Naka–Rushton) saturation — so a nonlinear mapper has
 * something to find — and each has its own amplitude, baseline and noise level.
 */
import { CATEGORIES } from './scenes.js';
import { CATEGORY_OFFSET, CHANNELS, FEATURES, GLOBAL_OFFSET, GRID, ORIENTATIONS, SIZE_OFFSET, gridIndex } from './features.js';
import { stream } from './random.js';

interface RoiSpec {
  name: string;
  fraction: number;
  /** Receptive-field sd in field units (0..1) at the centre of the field; undefined for non-retinotopic ROIs. */
  rfSize?: number;
}

export const ROIS: readonly RoiSpec[] = [
  { name: 'V1', fraction: 0.24, rfSize: 0.035 },
  { name: 'V2', fraction: 0.2, rfSize: 0.055 },
  { name: 'V3', fraction: 0.16, rfSize: 0.08 },
  { name: 'hV4', fraction: 0.12, rfSize: 0.12 },
  { name: 'LO', fraction: 0.1 },
  ...CATEGORIES.map((c) => ({ name: `cat-${c}`, fraction: 0.03 })),
];

export interface Cortex {
  subject: string;
  voxels: number;
  /**
   * Sparse voxels × FEATURES weights (compressed rows): voxel v's drive is Σ values[k]·z[indices[k]] over
   * k in offsets[v]..offsets[v+1], z the image's z-scored features. Receptive fields are cut at 3 sd.
   */
  weights: { offsets: Int32Array; indices: Int32Array; values: Float64Array };
  atlas: Record<string, Int32Array>;
  /** Receptive-field centre (x, y in 0..1) of retinotopic voxels, NaN for the others. */
  rfCentre: Float32Array;
  amplitude: Float32Array;
  baseline: Float32Array;
  /** Trial-noise sd relative to the voxel's signal sd (1 / ncsnr). */
  noiseRatio: Float32Array;
  /** Voxels whose every trial is NaN (dead voxels, as real data has). */
  dead: Int32Array;
  /** Subject-level noise multiplier (later subjects are noisier). */
  noiseLevel: number;
}

export function subjectName(index: number): string {
  return `subj${String(index + 1).padStart(2, '0')}`;
}

/** Voxel count and per-ROI counts, cheap (no weights), for describe(). */
export function cortexSize(seed: number, subjectIndex: number, voxels: number): { voxels: number; rois: Record<string, number> } {
  const rng = stream(seed, 'cortex-size', subjectIndex);
  const total = Math.round(voxels * (0.8 + 0.4 * rng.uniform()));
  const rois: Record<string, number> = {};
  let assigned = 0;
  ROIS.forEach((roi, i) => {
    const count = i === ROIS.length - 1 ? total - assigned : Math.round(total * roi.fraction);
    rois[roi.name] = count;
    assigned += count;
  });
  return { voxels: total, rois };
}

export function buildCortex(seed: number, subjectIndex: number, voxelsOption: number): Cortex {
  const { voxels, rois } = cortexSize(seed, subjectIndex, voxelsOption);
  const rng = stream(seed, 'cortex', subjectIndex);
  const dense = new Float64Array(FEATURES);
  const offsets = new Int32Array(voxels + 1);
  const rows: Array<{ indices: number[]; values: number[] }> = new Array(voxels);
  const rfCentre = new Float32Array(2 * voxels).fill(NaN);
  const amplitude = new Float32Array(voxels);
  const baseline = new Float32Array(voxels);
  const noiseRatio = new Float32Array(voxels);
  const noiseLevel = 0.8 * 1.25 ** subjectIndex;
  const atlas: Record<string, Int32Array> = {};
  // ROIs occupy interleaved voxel columns (as a mask enumerates them), not contiguous blocks.
  const order = rng.permutation(voxels);
  let next = 0;
  for (const roi of ROIS) {
    const members = Int32Array.from(order.subarray(next, next + rois[roi.name]!)).sort();
    next += members.length;
    atlas[roi.name] = members;
    for (const v of members) {
      dense.fill(0);
      if (roi.rfSize !== undefined) retinotopicWeights(roi.name, roi.rfSize, rng, dense, rfCentre, v);
      else higherWeights(roi.name, rng, dense);
      const row: { indices: number[]; values: number[] } = { indices: [], values: [] };
      dense.forEach((w, k) => {
        if (w !== 0) {
          row.indices.push(k);
          row.values.push(w);
        }
      });
      rows[v] = row;
      amplitude[v] = Math.exp(0.3 * rng.normal());
      baseline[v] = 0.5 * rng.normal();
      noiseRatio[v] = noiseLevel * Math.exp(0.5 * rng.normal());
    }
  }
  for (let v = 0; v < voxels; v++) offsets[v + 1] = offsets[v]! + rows[v]!.indices.length;
  const weights = {
    offsets,
    indices: Int32Array.from(rows.flatMap((r) => r.indices)),
    values: Float64Array.from(rows.flatMap((r) => r.values)),
  };
  const deadCount = Math.max(2, Math.round(0.003 * voxels));
  const dead = Int32Array.from(rng.permutation(voxels).subarray(0, deadCount)).sort();
  return { subject: subjectName(subjectIndex), voxels, weights, atlas, rfCentre, amplitude, baseline, noiseRatio, dead, noiseLevel };
}

function retinotopicWeights(roi: string, rfSize: number, rng: ReturnType<typeof stream>, w: Float64Array, rfCentre: Float32Array, v: number): void {
  const x0 = 0.05 + 0.9 * rng.uniform();
  const y0 = 0.05 + 0.9 * rng.uniform();
  rfCentre[2 * v] = x0;
  rfCentre[2 * v + 1] = y0;
  const sigma = rfSize * (1 + 1.5 * Math.hypot(x0 - 0.5, y0 - 0.5));
  const preferred = rng.int(ORIENTATIONS);
  // Channel mixing by area: V1 a preferred fine orientation; V2 fine + coarse; V3 coarse; hV4 colour.
  const mix = new Float32Array(CHANNELS);
  const colourSign = () => (rng.uniform() < 0.5 ? -1 : 1);
  for (let o = 0; o < ORIENTATIONS; o++) {
    const tuned = o === preferred ? 1 : 0.15;
    if (roi === 'V1') mix[o] = tuned;
    if (roi === 'V2') {
      mix[o] = 0.6 * tuned;
      mix[ORIENTATIONS + o] = 0.6 * tuned;
    }
    if (roi === 'V3') mix[ORIENTATIONS + o] = 0.5 + 0.5 * rng.uniform();
    if (roi === 'hV4') mix[ORIENTATIONS + o] = 0.3;
  }
  const colour = roi === 'hV4' ? 1 : roi === 'V1' ? 0.1 : 0.3;
  mix[2 * ORIENTATIONS] = colour * colourSign();
  mix[2 * ORIENTATIONS + 1] = colour * colourSign() * rng.uniform();
  mix[2 * ORIENTATIONS + 2] = 0.3 * colourSign();
  let total = 0;
  const gauss = new Float32Array(GRID * GRID);
  for (let gy = 0; gy < GRID; gy++) {
    for (let gx = 0; gx < GRID; gx++) {
      const dx = (gx + 0.5) / GRID - x0;
      const dy = (gy + 0.5) / GRID - y0;
      const d2 = dx * dx + dy * dy;
      const g = d2 > 9 * sigma * sigma ? 0 : Math.exp(-d2 / (2 * sigma * sigma));
      gauss[gy * GRID + gx] = g;
      total += g;
    }
  }
  if (total === 0) {
    // A field smaller than a cell: the nearest cell alone.
    const gx = Math.min(GRID - 1, Math.floor(x0 * GRID));
    const gy = Math.min(GRID - 1, Math.floor(y0 * GRID));
    gauss[gy * GRID + gx] = 1;
    total = 1;
  }
  for (let c = 0; c < CHANNELS; c++) {
    if (mix[c] === 0) continue;
    for (let gy = 0; gy < GRID; gy++) for (let gx = 0; gx < GRID; gx++) w[gridIndex(c, gx, gy)] = (mix[c]! * gauss[gy * GRID + gx]!) / total;
  }
}

function higherWeights(roi: string, rng: ReturnType<typeof stream>, w: Float64Array): void {
  const preferred = roi.startsWith('cat-') ? CATEGORIES.indexOf(roi.slice(4) as (typeof CATEGORIES)[number]) : -1;
  for (let c = 0; c < CATEGORIES.length; c++) {
    w[CATEGORY_OFFSET + c] = c === preferred ? 2 : preferred >= 0 ? 0.3 * rng.normal() : 0.8 * rng.normal();
  }
  w[SIZE_OFFSET] = preferred >= 0 ? 0.3 : 0.5;
  for (let c = 0; c < CHANNELS; c++) w[GLOBAL_OFFSET + c] = (preferred >= 0 ? 0.2 : 0.5) * rng.uniform();
}

/** Rectification then divisive saturation (Naka–Rushton, exponent 2) of a z-scored drive. */
export function voxelNonlinearity(drive: number): number {
  const r = Math.max(drive + 0.3, 0);
  return (r * r) / (1 + r * r);
}
