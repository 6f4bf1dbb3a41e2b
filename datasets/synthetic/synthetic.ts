/**
 * The simulated NSD-like experiment: per subject, its own training images and the shared test images, rendered
 * from seeded scenes, seen by the subject's simulated cortex over up to `repeats` noisy trials each.
 */
import type { Dataset, DatasetInfo, SplitData, SubjectData } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import { buildCortex, cortexSize, subjectName, voxelNonlinearity, type Cortex } from './cortex.js';
import { FEATURES, imageFeatures } from './features.js';
import { stream } from './random.js';
import { renderScene } from './render.js';
import { captionsFor, sampleScene, type Scene } from './scenes.js';
import type { SyntheticOptions } from './schema.js';

interface Stimuli {
  ids: string[];
  scenes: Scene[];
  images: Float32Array;
}

export class SyntheticDataset implements Dataset {
  private readonly loaded = new Map<string, Promise<SubjectData>>();

  constructor(
    private readonly options: SyntheticOptions,
    private readonly services: PluginServices,
  ) {}

  private subjects(): string[] {
    return Array.from({ length: this.options.subjects }, (_, i) => subjectName(i));
  }

  async describe(): Promise<DatasetInfo> {
    const o = this.options;
    const summaries = this.subjects().map((subject, i) => {
      const { voxels, rois } = cortexSize(o.seed, i, o.voxels);
      const trials = o.averageRepeats ? 1 : o.repeats;
      return { subject, trainItems: o.trainImages * trials, testItems: o.testImages * trials, voxels, rois };
    });
    return {
      id: 'synthetic',
      subjects: this.subjects(),
      imageShape: [o.imageSize, o.imageSize, 3],
      captions: true,
      summaries,
      notes: [
        `seed ${o.seed}; ${o.trainImages} training images per subject, ${o.testImages} shared test images, up to ${o.repeats} trials each`,
        o.averageRepeats ? 'rows are trial averages per image (NSD style)' : 'rows are single trials (Takagi style); images repeat',
        `dead voxels (NaN in every trial) per subject: ${this.subjects().map((_, i) => buildDeadCount(o, i)).join(', ')}`,
        'ROIs: retinotopic V1, V2, V3, hV4 (receptive fields growing with area and eccentricity); LO and cat-<category> (category-selective)',
      ],
    };
  }

  load(subject: string): Promise<SubjectData> {
    const index = this.subjects().indexOf(subject);
    if (index < 0) throw new UserError(`no subject '${subject}' (this simulation has ${this.subjects().join(', ')})`, "dataset 'synthetic'");
    let data = this.loaded.get(subject);
    if (!data) {
      data = this.simulate(index);
      this.loaded.set(subject, data);
    }
    return data;
  }

  private stimuli(label: string, count: number, idPrefix: string): Stimuli {
    const size = this.options.imageSize;
    const scenes = Array.from({ length: count }, (_, i) => sampleScene(stream(this.options.seed, label, i)));
    const images = new Float32Array(count * size * size * 3);
    scenes.forEach((scene, i) => renderScene(scene, size, images, i * size * size * 3));
    const ids = scenes.map((_, i) => `${idPrefix}-${String(i + 1).padStart(5, '0')}`);
    return { ids, scenes, images };
  }

  private async simulate(index: number): Promise<SubjectData> {
    const o = this.options;
    const subject = subjectName(index);
    const task = this.services.progress.task(`simulating ${subject}`, 3);
    const train = this.stimuli(`scene:${subject}:train`, o.trainImages, `${subject}-train`);
    const test = this.stimuli('scene:shared', o.testImages, 'shared');
    task.tick(1, 'images');
    const cortex = buildCortex(o.seed, index, o.voxels);
    const signal = await this.signal(cortex, [train, test]);
    task.tick(1, 'responses');
    const n = o.trainImages + o.testImages;
    const repeats = trialCounts(o.seed, subject, n, o.repeats);
    const { noiseSd, noiseCeiling } = noiseModel(cortex, signal, n, repeats, o.noise);
    const noise = stream(o.seed, `noise:${subject}`);
    const split = (stim: Stimuli, first: number): SplitData => {
      const count = stim.ids.length;
      const V = cortex.voxels;
      const rows = o.averageRepeats ? count : repeats.subarray(first, first + count).reduce((a, b) => a + b, 0);
      const fmri = new Float32Array(rows * V);
      const rowImage: number[] = [];
      const rowRepeats: number[] = [];
      for (let i = 0; i < count; i++) {
        const k = repeats[first + i]!;
        const s = signal.subarray((first + i) * V, (first + i + 1) * V);
        for (let t = 0; t < k; t++) {
          const r = o.averageRepeats ? rowImage.length : rowImage.length + t;
          const out = fmri.subarray(r * V, (r + 1) * V);
          const weight = o.averageRepeats ? 1 / k : 1;
          for (let v = 0; v < V; v++) out[v]! += weight * (s[v]! + noiseSd[v]! * noise.normal());
        }
        const trials = o.averageRepeats ? 1 : k;
        for (let t = 0; t < trials; t++) {
          rowImage.push(i);
          rowRepeats.push(o.averageRepeats ? k : 1);
        }
      }
      for (let r = 0; r < rows; r++) for (const v of cortex.dead) fmri[r * V + v] = NaN;
      const size = o.imageSize;
      const pixels = size * size * 3;
      const images = new Float32Array(rows * pixels);
      rowImage.forEach((img, r) => images.set(stim.images.subarray(img * pixels, (img + 1) * pixels), r * pixels));
      return {
        fmri: { rows, cols: V, data: fmri },
        repeats: Int32Array.from(rowRepeats),
        stimuli: {
          ids: rowImage.map((img) => stim.ids[img]!),
          images: async () => ({ count: rows, height: size, width: size, channels: 3, data: images }),
          captions: async () => rowImage.map((img) => captionsFor(stim.scenes[img]!)),
        },
      };
    };
    const data: SubjectData = { subject, train: split(train, 0), test: split(test, o.trainImages), atlas: cortex.atlas, noiseCeiling };
    task.tick(1, 'trials');
    task.done();
    return data;
  }

  /** Noise-free responses (images × voxels): z-scored features → weighted drive → nonlinearity → amplitude. */
  private async signal(cortex: Cortex, sets: Stimuli[]): Promise<Float32Array> {
    const size = this.options.imageSize;
    const n = sets.reduce((a, s) => a + s.ids.length, 0);
    const features = new Float32Array(n * FEATURES);
    let row = 0;
    for (const set of sets) {
      set.scenes.forEach((scene, i) => imageFeatures(set.images, i * size * size * 3, size, scene, features, (row + i) * FEATURES));
      row += set.ids.length;
    }
    zscoreColumns(features, n, FEATURES);
    const V = cortex.voxels;
    // Densified weights through the matrix engine: ~20 GFLOP at default size, a fraction of a second.
    const { offsets, indices, values } = cortex.weights;
    const dense = new Float32Array(V * FEATURES);
    for (let v = 0; v < V; v++) for (let k = offsets[v]!; k < offsets[v + 1]!; k++) dense[v * FEATURES + indices[k]!] = values[k]!;
    const drive = await this.services.linalg.matmul({ rows: n, cols: FEATURES, data: features }, { rows: V, cols: FEATURES, data: dense }, { transB: true });
    const out = drive.data;
    zscoreColumns(out, n, V);
    for (let i = 0; i < n; i++) {
      for (let v = 0; v < V; v++) out[i * V + v] = cortex.baseline[v]! + cortex.amplitude[v]! * voxelNonlinearity(out[i * V + v]!);
    }
    return out;
  }
}

function buildDeadCount(o: SyntheticOptions, index: number): number {
  return Math.max(2, Math.round(0.003 * cortexSize(o.seed, index, o.voxels).voxels));
}

/** Trials per image: `max` for most images, fewer for some (as in NSD, where not every image got all 3). */
export function trialCounts(seed: number, subject: string, count: number, max: number): Int32Array {
  const rng = stream(seed, `repeats:${subject}`);
  return Int32Array.from({ length: count }, () => (max === 1 || rng.uniform() < 0.75 ? max : 1 + rng.int(max - 1)));
}

/**
 * Per-voxel noise sd (from the voxel's signal sd and its noise ratio) and the noise ceiling: the fraction of the
 * variance of repeat-averaged responses that the noise-free signal explains,
 * NC = σ²_signal / (σ²_signal + σ²_noise · mean(1/n_i)) over the subject's images (NSD's ncsnr²/(ncsnr² + 1/n)
 * with the actual trial counts).
 */
function noiseModel(cortex: Cortex, signal: Float32Array, n: number, repeats: Int32Array, scale: number) {
  const V = cortex.voxels;
  const noiseSd = new Float32Array(V);
  const noiseCeiling = new Float32Array(V);
  const meanInverseRepeats = repeats.reduce((a, k) => a + 1 / k, 0) / n;
  for (let v = 0; v < V; v++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = signal[i * V + v]!;
      s += x;
      s2 += x * x;
    }
    const variance = Math.max(s2 / n - (s / n) ** 2, 0);
    noiseSd[v] = scale * cortex.noiseRatio[v]! * Math.sqrt(variance);
    const noiseVariance = noiseSd[v]! ** 2 * meanInverseRepeats;
    noiseCeiling[v] = variance + noiseVariance > 0 ? variance / (variance + noiseVariance) : 0;
  }
  for (const v of cortex.dead) noiseCeiling[v] = NaN;
  return { noiseSd, noiseCeiling };
}

function zscoreColumns(data: Float32Array, rows: number, cols: number): void {
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = data[i * cols + j]!;
      mean[j]! += x;
      sq[j]! += x * x;
    }
  }
  for (let j = 0; j < cols; j++) {
    mean[j] = mean[j]! / rows;
    const sd = Math.sqrt(Math.max(sq[j]! / rows - mean[j]! ** 2, 0));
    sq[j] = sd > 1e-8 ? 1 / sd : 0;
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = (data[i * cols + j]! - mean[j]!) * sq[j]!;
}
