/**
 * The simulated experiment: stimuli shown to each subject's simulated cortex, repeated with trial noise, and
 * delivered NSD-style (shared test images, per-subject training images, repeats averaged per image by default,
 * dead voxels left as NaN for core's preprocessing to drop).
 */
import type { Dataset, DatasetInfo, SplitData, Stimuli, SubjectData, SubjectSummary } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch } from '../../core/tensor.js';
import { buildCortex, respond, ROI_NAMES, SCALES, subjectName, type Cortex } from './cortex.js';
import { featureMaps, gridAt, pool, pyramid } from './features.js';
import { fillNormal, stream } from './random.js';
import { renderScene } from './render.js';
import { captionsFor, sampleScene, type Scene } from './scenes.js';
import type { SyntheticOptions } from './schema.js';

/** Everything simulated for one subject, including what a real dataset would not reveal (for tests, analyses). */
export interface SimulatedSubject {
  cortex: Cortex;
  train: SimulatedSplit;
  test: SimulatedSplit;
  /** Noise ceiling per voxel for the rows `load` returns for the test split (0 for dead voxels). */
  noiseCeiling: Float32Array;
}

export interface SimulatedSplit {
  ids: string[];
  scenes: Scene[];
  /** Noiseless responses, images × voxels, each voxel standardised over all the subject's images. */
  signal: Float32Array;
  /** Trials of each image. */
  repeats: Int32Array;
}

export class SyntheticDataset implements Dataset {
  constructor(private readonly options: SyntheticOptions) {}

  get subjects(): string[] {
    return Array.from({ length: this.options.subjects }, (_, i) => subjectName(i));
  }

  async describe(): Promise<DatasetInfo> {
    const { imageSize, averageRepeats, noise, seed } = this.options;
    const summaries: SubjectSummary[] = [];
    const deadNotes: string[] = [];
    for (let s = 0; s < this.options.subjects; s++) {
      const cortex = buildCortex(this.options, s);
      const rows = (split: 'train' | 'test') => {
        const repeats = this.repeats(s, split);
        return averageRepeats ? repeats.length : repeats.reduce((a, b) => a + b, 0);
      };
      const rois: Record<string, number> = {};
      for (const name of ROI_NAMES) rois[name] = cortex.atlas[name]!.length;
      summaries.push({ subject: cortex.subject, trainItems: rows('train'), testItems: rows('test'), voxels: cortex.voxels.length, rois });
      deadNotes.push(`${cortex.subject}: ${cortex.dead.length}`);
    }
    return {
      id: 'synthetic',
      subjects: this.subjects,
      imageShape: [imageSize, imageSize, 3],
      captions: true,
      summaries,
      notes: [
        `simulated experiment, seed ${seed}, noise scale ${noise}; ${this.options.testImages} test images shared by all subjects`,
        `rows are ${averageRepeats ? 'trials averaged per image' : 'single trials'} (up to ${this.options.repeats} per image)`,
        `dead voxels (NaN in every trial): ${deadNotes.join(', ')}`,
        'noise ceiling (NSD): NC = ncsnr² / (ncsnr² + k), k = mean over test rows of 1/trials per row',
      ],
    };
  }

  async load(subject: string): Promise<SubjectData> {
    const simulated = this.simulate(subject);
    const { cortex } = simulated;
    return {
      subject,
      train: this.split(cortex, simulated.train, 'train'),
      test: this.split(cortex, simulated.test, 'test'),
      atlas: cortex.atlas,
      noiseCeiling: simulated.noiseCeiling,
    };
  }

  /** The noiseless ground truth behind `load(subject)`. */
  simulate(subject: string): SimulatedSubject {
    const index = this.subjectIndex(subject);
    const cortex = buildCortex(this.options, index);
    const train = this.scenes(`scene:${subject}`, subject, this.options.trainImages);
    const test = this.scenes('scene:shared', 'shared', this.options.testImages);
    const { signal, flat } = this.signals(cortex, [...train.scenes, ...test.scenes]);
    const voxels = cortex.voxels.length;
    const trainSplit = { ...train, signal: signal.subarray(0, train.scenes.length * voxels), repeats: this.repeats(index, 'train') };
    const testSplit = { ...test, signal: signal.subarray(train.scenes.length * voxels), repeats: this.repeats(index, 'test') };
    return { cortex, train: trainSplit, test: testSplit, noiseCeiling: this.noiseCeiling(cortex, testSplit.repeats, flat) };
  }

  private subjectIndex(subject: string): number {
    const index = this.subjects.indexOf(subject);
    if (index < 0) throw new UserError(`unknown subject "${subject}"; expected one of ${this.subjects.join(', ')}`, 'dataset synthetic');
    return index;
  }

  private scenes(label: string, prefix: string, count: number): { ids: string[]; scenes: Scene[] } {
    const width = Math.max(4, String(count - 1).length);
    const ids: string[] = [];
    const scenes: Scene[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(`${prefix}-${String(i).padStart(width, '0')}`);
      scenes.push(sampleScene(stream(this.options.seed, label, i)));
    }
    return { ids, scenes };
  }

  /** Trials per image: mostly the maximum, some fewer (as for NSD subjects who did not finish every session). */
  private repeats(subjectIndex: number, split: 'train' | 'test'): Int32Array {
    const count = split === 'train' ? this.options.trainImages : this.options.testImages;
    const rng = stream(this.options.seed, `repeats:${split}`, subjectIndex);
    const max = this.options.repeats;
    return Int32Array.from({ length: count }, () => {
      const u = rng.uniform();
      return Math.max(1, u < 0.75 ? max : u < 0.92 ? max - 1 : max - 2);
    });
  }

  /** Noiseless responses (images × voxels), each voxel standardised over these images; `flat`: constant voxels. */
  private signals(cortex: Cortex, scenes: Scene[]): { signal: Float32Array; flat: number[] } {
    const size = this.options.imageSize;
    const voxels = cortex.voxels.length;
    const out = new Float32Array(scenes.length * voxels);
    const image = new Float32Array(size * size * 3);
    scenes.forEach((scene, i) => {
      renderScene(scene, size, image);
      const levels = pyramid(featureMaps(image, 0, size));
      const pooled = SCALES.map((s) => pool(levels[s.level]!, gridAt(s.level), s.sigma));
      respond(cortex, pooled, scene, out, i * voxels);
    });
    const flat = standardiseColumns(out, scenes.length, voxels);
    return { signal: out, flat };
  }

  /**
   * NSD's noise ceiling for the test rows: with signal sd 1 and noise sd σ per trial, ncsnr = 1/σ and
   * NC = ncsnr² / (ncsnr² + k) = 1 / (1 + k σ²), where k is the mean of 1/n over rows averaging n trials
   * (NSD's (A/3 + B/2 + C/1) / (A + B + C) for images with 3, 2, 1 trials); k = 1 for single-trial rows.
   */
  private noiseCeiling(cortex: Cortex, testRepeats: Int32Array, flat: number[]): Float32Array {
    let k = 1;
    if (this.options.averageRepeats) {
      k = testRepeats.reduce((sum, n) => sum + 1 / n, 0) / testRepeats.length;
    }
    const ceiling = Float32Array.from(cortex.voxels, (v) => 1 / (1 + k * v.noiseSd * v.noiseSd));
    for (const column of [...cortex.dead, ...flat]) ceiling[column] = 0;
    return ceiling;
  }

  private split(cortex: Cortex, split: SimulatedSplit, name: 'train' | 'test'): SplitData {
    const voxels = cortex.voxels;
    const average = this.options.averageRepeats;
    const rows = average ? split.ids.length : split.repeats.reduce((a, b) => a + b, 0);
    const data = new Float32Array(rows * voxels.length);
    const rowIds: string[] = [];
    const rowScenes: Scene[] = [];
    const rowRepeats: number[] = [];
    const rng = stream(this.options.seed, `noise:${name}:${cortex.subject}`);
    const trial = new Float64Array(voxels.length);
    const noise = new Float64Array(voxels.length);
    let r = 0;
    split.ids.forEach((id, i) => {
      const n = split.repeats[i]!;
      const signal = split.signal.subarray(i * voxels.length, (i + 1) * voxels.length);
      if (average) trial.fill(0);
      for (let t = 0; t < n; t++) {
        fillNormal(rng, noise);
        for (let v = 0; v < voxels.length; v++) {
          const noisy = signal[v]! + voxels[v]!.noiseSd * noise[v]!;
          if (average) trial[v]! += noisy / n;
          else data[r * voxels.length + v] = voxels[v]!.baseline + voxels[v]!.gain * noisy;
        }
        if (!average) {
          this.pushRow(rowIds, rowScenes, rowRepeats, id, split.scenes[i]!, 1);
          r++;
        }
      }
      if (average) {
        for (let v = 0; v < voxels.length; v++) data[r * voxels.length + v] = voxels[v]!.baseline + voxels[v]!.gain * trial[v]!;
        this.pushRow(rowIds, rowScenes, rowRepeats, id, split.scenes[i]!, n);
        r++;
      }
    });
    for (let row = 0; row < rows; row++) for (const column of cortex.dead) data[row * voxels.length + column] = NaN;
    return {
      fmri: { rows, cols: voxels.length, data },
      stimuli: this.stimuli(rowIds, rowScenes),
      repeats: Int32Array.from(rowRepeats),
    };
  }

  private pushRow(ids: string[], scenes: Scene[], repeats: number[], id: string, scene: Scene, n: number): void {
    ids.push(id);
    scenes.push(scene);
    repeats.push(n);
  }

  /** Images are rendered when first asked for (they are cheap to redraw and large to keep). */
  private stimuli(ids: string[], scenes: Scene[]): Stimuli {
    const size = this.options.imageSize;
    let images: Promise<ImageBatch> | undefined;
    return {
      ids,
      images: () =>
        (images ??= Promise.resolve().then(() => {
          const data = new Float32Array(scenes.length * size * size * 3);
          scenes.forEach((scene, i) => renderScene(scene, size, data, i * size * size * 3));
          return { count: scenes.length, height: size, width: size, channels: 3, data };
        })),
      captions: async () => scenes.map(captionsFor),
    };
  }
}

/**
 * Each column to mean 0 and standard deviation 1 (population). A constant column (a voxel nothing drove) becomes
 * all zeros; its index is returned so that its noise ceiling is reported as 0.
 */
function standardiseColumns(data: Float32Array, rows: number, cols: number): number[] {
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += data[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j]! /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = data[i * cols + j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  const scale = Float64Array.from(sq, (s) => (s > 1e-20 ? 1 / Math.sqrt(s / rows) : 0));
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = (data[i * cols + j]! - mean[j]!) * scale[j]!;
  const flat: number[] = [];
  scale.forEach((s, j) => s === 0 && flat.push(j));
  return flat;
}
