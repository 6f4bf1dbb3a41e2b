/**
 * A simulated visual cortex for one subject: voxels with receptive fields over the feature maps (V1 → hV4, RFs
 * growing), and category-selective voxels driven by what the object is, tolerant to where it is and how big.
 * Responses are nonlinear (rectification, divisive normalisation, a compressive power) so that nonlinear mappers
 * have something to find. Each voxel's noiseless response is later standardised over the subject's images, so
 * its per-trial noise standard deviation (`noiseSd`) is in units of its signal standard deviation.
 */
import type { Rng } from '../../core/rng.js';
import { CONTRAST, LUMINANCE, RED_GREEN, gridAt, type PoolScale } from './features.js';
import { stream } from './random.js';
import { CATEGORIES, MAX_RADIUS, MIN_RADIUS, type Scene } from './scenes.js';
import type { SyntheticOptions } from './schema.js';

/** Retinotopic ROIs: RF sizes (σ in cells of the pyramid level) grow from V1 to hV4; colour weighs more in hV4. */
const RETINOTOPIC = [
  { name: 'V1', share: 0.24, level: 0, sigmas: [0.6, 0.9], tuning: 2.0, energy: 3, colour: 0.15, luminance: 0.3, ncsnr: 0.8 },
  { name: 'V2', share: 0.2, level: 0, sigmas: [1.2, 1.7], tuning: 1.2, energy: 3, colour: 0.3, luminance: 0.3, ncsnr: 0.7 },
  { name: 'V3', share: 0.15, level: 1, sigmas: [1.0, 1.4], tuning: 0.8, energy: 3, colour: 0.4, luminance: 0.25, ncsnr: 0.6 },
  { name: 'hV4', share: 0.11, level: 1, sigmas: [1.8, 2.4], tuning: 0.5, energy: 2, colour: 1.0, luminance: 0.2, ncsnr: 0.55 },
] as const;
/** Object-general (LOC) and one category-selective ROI per stimulus category share the rest. */
const LOC = { name: 'LOC', share: 0.1, ncsnr: 0.5, lowLevel: 0.5 };
const CATEGORY_SHARE = 0.2;
const CATEGORY_NCSNR = 0.5;
const CATEGORY_LOW_LEVEL = 0.15;
/** Higher voxels read low-level contrast over big pools on the coarsest level. */
const HIGHER_LEVEL = 2;
const HIGHER_SIGMA = 1.0;
/** Position tolerance of higher voxels (σ of their Gaussian position preference, field units). */
const POSITION_TOLERANCE = 0.3;

/** Orientations of the energy channels (radians), in feature order. */
const ORIENTATIONS = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4];
/** Fraction of voxels with weak signal (noise-dominated, as many real voxels are). */
const WEAK_FRACTION = 0.1;
/** Fraction of voxels that are dead (NaN in every trial); at least one per subject. */
const DEAD_FRACTION = 0.004;

export const ROI_NAMES: readonly string[] = [
  ...RETINOTOPIC.map((r) => r.name),
  LOC.name,
  ...CATEGORIES.map((c) => `category-${c}`),
];

/** Every pooling scale any voxel uses; voxels refer to them by index. */
export const SCALES: readonly PoolScale[] = [
  ...RETINOTOPIC.flatMap((r) => r.sigmas.map((sigma) => ({ level: r.level, sigma }))),
  { level: HIGHER_LEVEL, sigma: HIGHER_SIGMA },
];
const HIGHER_SCALE = SCALES.length - 1;
/** Cells per feature plane at each scale's level. */
const PLANE_SIZES = SCALES.map((s) => gridAt(s.level) ** 2);

export interface Voxel {
  /** Index into ROI_NAMES. */
  roi: number;
  /** Index into SCALES: the receptive field's size and the pyramid level it reads. */
  scale: number;
  /** Receptive-field centre cell on that level (row-major). */
  cell: number;
  /** Receptive-field centre (higher voxels: preferred object position) and size, in field units (0..1). */
  x: number;
  y: number;
  sigma: number;
  /** Weights of the four orientation-energy channels (zero for higher voxels). */
  orientation: Float32Array;
  /** Colour-opponent channel (RED_GREEN or BLUE_YELLOW) and its signed weight (rectified: one polarity drives it). */
  colourChannel: number;
  colourWeight: number;
  /** Signed luminance weight (ON or OFF), rectified. */
  luminanceWeight: number;
  /** Semi-saturation constant of the divisive normalisation. */
  semiSaturation: number;
  /** Response to each category (higher voxels); empty for retinotopic voxels. */
  tuning: Float32Array;
  /** Weight of pooled contrast in a higher voxel's response. */
  lowLevel: number;
  /** Per-trial noise standard deviation, in units of the voxel's signal standard deviation. */
  noiseSd: number;
  /** Arbitrary response units: value = baseline + gain × (standardised signal + noise). */
  baseline: number;
  gain: number;
}

export interface Cortex {
  subject: string;
  /** Voxels in column order (ROIs interleaved, as in a real brain mask). */
  voxels: Voxel[];
  atlas: Record<string, Int32Array>;
  /** Columns whose values are NaN in every trial. */
  dead: Int32Array;
}

export function subjectName(index: number): string {
  return `subj${String(index + 1).padStart(2, '0')}`;
}

/** The cortex of subject `index` (0-based): cheap, no stimuli needed. */
export function buildCortex(options: SyntheticOptions, index: number): Cortex {
  const subject = subjectName(index);
  const rng = stream(options.seed, 'cortex', index);
  const total = Math.round(options.voxels * (0.8 + 0.4 * rng.uniform()));
  const subjectNoise = 0.8 + 0.45 * rng.uniform();

  const counts = roiCounts(total);
  const byRoi: Voxel[] = [];
  counts.forEach((count, roi) => {
    for (let k = 0; k < count; k++) byRoi.push(makeVoxel(roi, rng, options.noise * subjectNoise));
  });

  // Interleave ROIs: column c holds voxel order[c].
  const order = rng.permutation(total);
  const voxels = Array.from(order, (v) => byRoi[v]!);
  const members: number[][] = ROI_NAMES.map(() => []);
  voxels.forEach((voxel, column) => members[voxel.roi]!.push(column));
  const atlas: Record<string, Int32Array> = {};
  ROI_NAMES.forEach((name, roi) => (atlas[name] = Int32Array.from(members[roi]!)));

  const deadCount = Math.max(1, Math.round(DEAD_FRACTION * total));
  const dead = rng.permutation(total).slice(0, deadCount).sort();
  return { subject, voxels, atlas, dead };
}

function roiCounts(total: number): number[] {
  const shares = [
    ...RETINOTOPIC.map((r) => r.share),
    LOC.share,
    ...CATEGORIES.map(() => CATEGORY_SHARE / CATEGORIES.length),
  ];
  const counts = shares.map((s) => Math.max(1, Math.round(s * total)));
  counts[0]! += total - counts.reduce((a, b) => a + b, 0); // V1 absorbs rounding
  return counts;
}

function makeVoxel(roi: number, rng: Rng, noiseScale: number): Voxel {
  const lognormal = (median: number, spread: number) => median * Math.exp(spread * rng.normal());
  const voxel: Voxel = {
    roi,
    scale: HIGHER_SCALE,
    cell: 0,
    x: 0,
    y: 0,
    sigma: 0,
    orientation: new Float32Array(4),
    colourChannel: RED_GREEN,
    colourWeight: 0,
    luminanceWeight: 0,
    semiSaturation: 0,
    tuning: new Float32Array(0),
    lowLevel: 0,
    noiseSd: 0,
    baseline: rng.normal(),
    gain: lognormal(1, 0.3),
  };
  const spec = RETINOTOPIC[roi];
  let ncsnr: number;
  if (spec) {
    const sigmaIndex = rng.int(spec.sigmas.length);
    voxel.scale = SCALES.findIndex((s) => s.level === spec.level && s.sigma === spec.sigmas[sigmaIndex]);
    placeOnGrid(voxel, spec.level, rng.int(gridAt(spec.level)), rng.int(gridAt(spec.level)));
    voxel.sigma = spec.sigmas[sigmaIndex]! / gridAt(spec.level);
    // Von Mises tuning around a preferred orientation, total weight `energy`.
    const preferred = Math.PI * rng.uniform();
    const raw = ORIENTATIONS.map((o) => Math.exp(spec.tuning * (Math.cos(2 * (o - preferred)) - 1)));
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((w, o) => (voxel.orientation[o] = (spec.energy * w) / sum));
    voxel.colourChannel = RED_GREEN + rng.int(2);
    voxel.colourWeight = spec.colour * (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform());
    voxel.luminanceWeight = spec.luminance * (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform());
    voxel.semiSaturation = 0.15 * (0.7 + 0.7 * rng.uniform());
    ncsnr = spec.ncsnr;
  } else {
    const isLoc = roi === RETINOTOPIC.length;
    voxel.x = 0.2 + 0.6 * rng.uniform();
    voxel.y = 0.2 + 0.6 * rng.uniform();
    voxel.sigma = POSITION_TOLERANCE;
    const grid = gridAt(HIGHER_LEVEL);
    voxel.cell = Math.floor(voxel.y * grid) * grid + Math.floor(voxel.x * grid);
    const preferred = roi - RETINOTOPIC.length - 1;
    voxel.tuning = Float32Array.from(CATEGORIES, (_, k) =>
      isLoc ? 0.4 + 0.6 * rng.uniform() : k === preferred ? 1 : 0.3 * rng.uniform(),
    );
    voxel.lowLevel = (isLoc ? LOC.lowLevel : CATEGORY_LOW_LEVEL) * (0.5 + rng.uniform());
    ncsnr = isLoc ? LOC.ncsnr : CATEGORY_NCSNR;
  }
  if (rng.uniform() < WEAK_FRACTION) ncsnr *= 0.15;
  voxel.noiseSd = noiseScale / lognormal(ncsnr, 0.4);
  return voxel;
}

function placeOnGrid(voxel: Voxel, level: number, cx: number, cy: number): void {
  const grid = gridAt(level);
  voxel.cell = cy * grid + cx;
  voxel.x = (cx + 0.5) / grid;
  voxel.y = (cy + 0.5) / grid;
}

/**
 * Noiseless responses of every voxel to one stimulus, given the feature maps pooled at every SCALES entry.
 * Retinotopic: drive = Σ orientation energies + [colour]₊ + [luminance]₊, then drive² / (σ² + contrast²).
 * Higher: (tuning[category] × position tolerance × size factor)^0.5 + pooled contrast.
 */
export function respond(cortex: Cortex, pooled: readonly Float32Array[], scene: Scene, out: Float32Array, offset = 0): void {
  const category = CATEGORIES.indexOf(scene.category);
  const sizeFactor = 0.6 + (0.8 * (scene.radius - MIN_RADIUS)) / (MAX_RADIUS - MIN_RADIUS);
  const voxels = cortex.voxels;
  for (let v = 0; v < voxels.length; v++) {
    const voxel = voxels[v]!;
    const maps = pooled[voxel.scale]!;
    const plane = PLANE_SIZES[voxel.scale]!;
    const cell = voxel.cell;
    const contrast = maps[CONTRAST * plane + cell]!;
    if (voxel.tuning.length === 0) {
      const w = voxel.orientation;
      let drive = w[0]! * maps[cell]! + w[1]! * maps[plane + cell]! + w[2]! * maps[2 * plane + cell]! + w[3]! * maps[3 * plane + cell]!;
      drive += Math.max(0, voxel.colourWeight * maps[voxel.colourChannel * plane + cell]!);
      drive += Math.max(0, voxel.luminanceWeight * maps[LUMINANCE * plane + cell]!);
      const s = voxel.semiSaturation;
      out[offset + v] = (drive * drive) / (s * s + contrast * contrast);
    } else {
      const dx = scene.cx - voxel.x;
      const dy = scene.cy - voxel.y;
      const position = Math.exp(-(dx * dx + dy * dy) / (2 * voxel.sigma * voxel.sigma));
      out[offset + v] = Math.sqrt(voxel.tuning[category]! * position * sizeFactor) + voxel.lowLevel * contrast;
    }
  }
}
