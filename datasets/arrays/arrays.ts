/**
 * The `arrays` dataset: paired fMRI rows and stimuli read from .npy/.npz/.mat/.h5 files as a spec describes them.
 * fMRI matrices are streamed to float32 and kept in the artifact cache; images are read only when asked for.
 */
import { join } from 'node:path';
import { readMatrix, writeMatrix, type CacheOutcome } from '../../core/cache.js';
import type { Dataset, DatasetInfo, SplitData, Stimuli, SubjectData, SubjectSummary } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import { imagesAsMatrix, matrixAsImages, type ImageBatch, type Matrix } from '../../core/tensor.js';
import { checkImageShape, ImageConverter, type ImageGeometry } from './images.js';
import type { ArraysOptions, ImageLayout } from './schema.js';
import { resolveSpec, WHERE, type ResolvedSpec, type ResolvedSplit, type ResolvedSubject } from './spec.js';
import { FileSet, fileIdentities, formatOf, type ArraySource, type Source } from './sources.js';

/** Stimuli with the optional per-item labels of the spec. */
export interface ArrayStimuli extends Stimuli {
  labels?: Int32Array;
}

/** Bytes per streamed read of stimulus rows (as float32). */
const IMAGE_READ_BYTES = 64 * 1024 * 1024;

interface SplitShapes {
  items: number;
  voxels: number;
  geometry: ImageGeometry;
}

export class ArraysDataset implements Dataset {
  private spec?: Promise<ResolvedSpec>;
  /** Outcome of the last fMRI cache lookup per subject (logged; read by tests). */
  readonly cacheOutcomes = new Map<string, CacheOutcome>();

  constructor(
    private readonly options: ArraysOptions,
    private readonly services: PluginServices,
  ) {}

  private resolved(): Promise<ResolvedSpec> {
    return (this.spec ??= resolveSpec(this.options));
  }

  async describe(): Promise<DatasetInfo> {
    const spec = await this.resolved();
    const summaries: SubjectSummary[] = [];
    let imageShape: DatasetInfo['imageShape'] = [0, 0, 0];
    let layout: ImageLayout = 'HWC';
    const files = new FileSet();
    try {
      for (const subject of spec.subjects) {
        const train = await this.shapes(files, spec, subject.train);
        const test = await this.shapes(files, spec, subject.test);
        checkVoxels(subject, train.voxels, test.voxels);
        const [h, w] = this.outputSize(spec, train.geometry);
        imageShape = [h, w, train.geometry.channels];
        layout = train.geometry.layout;
        const rois: Record<string, number> = {};
        for (const [roi, source] of Object.entries(subject.rois)) rois[roi] = (await roiIndices(files, source, train.voxels)).length;
        summaries.push({ subject: subject.name, trainItems: train.items, testItems: test.items, voxels: train.voxels, rois });
      }
    } finally {
      await files.close();
    }
    const first = spec.subjects[0]!;
    return {
      id: 'arrays',
      subjects: spec.subjects.map((s) => s.name),
      imageShape,
      captions: spec.subjects.every((s) => s.train.captions && s.test.captions),
      summaries,
      notes: [
        `train fMRI: ${first.train.fmri.path}${first.train.fmri.variable ? `#${first.train.fmri.variable}` : ''}`,
        `train stimuli: ${first.train.stimuli.path}${first.train.stimuli.variable ? `#${first.train.stimuli.variable}` : ''}`,
        spec.imageSize ? `images downscaled to ${spec.imageSize}×${spec.imageSize} (area average)` : 'images at their stored size',
        `image layout ${layout}${spec.image?.layout === undefined ? ' (default for this file; set image.layout to change it)' : ''}`,
      ],
    };
  }

  async load(name: string): Promise<SubjectData> {
    const spec = await this.resolved();
    const subject = spec.subjects.find((s) => s.name === name);
    if (!subject) throw new UserError(`no subject '${name}' (this spec has ${spec.subjects.map((s) => s.name).join(', ')})`, WHERE);
    const files = new FileSet();
    try {
      const trainShapes = await this.shapes(files, spec, subject.train);
      const testShapes = await this.shapes(files, spec, subject.test);
      checkVoxels(subject, trainShapes.voxels, testShapes.voxels);
      const atlas: Record<string, Int32Array> = {};
      for (const [roi, source] of Object.entries(subject.rois)) atlas[roi] = await roiIndices(files, source, trainShapes.voxels);
      const [train, test] = await this.fmri(files, subject);
      return {
        subject: name,
        train: await this.split(files, spec, subject.train, train, trainShapes, 'train'),
        test: await this.split(files, spec, subject.test, test, testShapes, 'test'),
        atlas,
      };
    } finally {
      await files.close();
    }
  }

  /** Shapes of one split, checked against each other and against the declared image layout. */
  private async shapes(files: FileSet, spec: ResolvedSpec, split: ResolvedSplit): Promise<SplitShapes> {
    const fmri = await files.open(split.fmri);
    if (fmri.shape.length !== 2) {
      throw new UserError(`${split.fmri.field}: expected a 2-D items × voxels array, found shape (${fmri.shape.join(', ')})`, split.fmri.path);
    }
    const [items, voxels] = fmri.shape as [number, number];
    const stimuli = await files.open(split.stimuli);
    const count = stimuli.shape[0] ?? 0;
    if (count !== items) {
      throw new UserError(
        `${split.stimuli.field}: ${count} images whose count does not match the ${items} fMRI rows of ${split.fmri.field} (${split.fmri.path})`,
        split.stimuli.path,
      );
    }
    const geometry = imageGeometry(spec, stimuli, split.stimuli);
    checkImageShape(stimuli.shape, geometry, split.stimuli);
    return { items, voxels, geometry };
  }

  private outputSize(spec: ResolvedSpec, g: ImageGeometry): [number, number] {
    if (spec.imageSize === undefined) return [g.height, g.width];
    if (spec.imageSize > g.height || spec.imageSize > g.width) {
      throw new UserError(`imageSize ${spec.imageSize} is larger than the stored ${g.height}×${g.width} images (it only downscales)`, WHERE);
    }
    return [spec.imageSize, spec.imageSize];
  }

  /** Both fMRI matrices as float32, through the artifact cache (key: the sources and their files' sizes and mtimes). */
  private async fmri(files: FileSet, subject: ResolvedSubject): Promise<[Matrix, Matrix]> {
    const sources = [subject.train.fmri, subject.test.fmri];
    const description = {
      dataset: 'arrays',
      what: 'fmri',
      sources: sources.map(({ path, variable }) => ({ path, variable })),
      files: await fileIdentities(sources),
    };
    const { value, outcome } = await this.services.cache.getOrBuild<[Matrix, Matrix]>(
      'datasets',
      description,
      {
        read: async (dir) => [await readMatrix(join(dir, 'train.npy')), await readMatrix(join(dir, 'test.npy'))],
        write: async (dir, [train, test]) => {
          await writeMatrix(join(dir, 'train.npy'), train);
          await writeMatrix(join(dir, 'test.npy'), test);
        },
      },
      async () => [await this.readFmri(files, subject.train.fmri, subject.name), await this.readFmri(files, subject.test.fmri, subject.name)],
    );
    this.cacheOutcomes.set(subject.name, outcome);
    this.services.log.debug(`arrays: fMRI of ${subject.name} from the cache: ${outcome}`);
    return value;
  }

  /** Streams rows (float64 → float32 chunk by chunk: the float64 file is never whole in memory). */
  private async readFmri(files: FileSet, source: Source, subject: string): Promise<Matrix> {
    const array = await files.open(source);
    const [rows, cols] = array.shape as [number, number];
    const data = new Float32Array(rows * cols);
    const step = Math.max(1, Math.min(this.options.chunkRows, Math.floor(IMAGE_READ_BYTES / (8 * Math.max(1, cols)))));
    const task = this.services.progress.task(`${subject} ${source.field}`, rows);
    try {
      for (let start = 0; start < rows; start += step) {
        const end = Math.min(rows, start + step);
        data.set(await array.readRows(start, end), start * cols);
        task.tick(end - start);
      }
    } finally {
      task.done();
    }
    return { rows, cols, data };
  }

  private async split(files: FileSet, spec: ResolvedSpec, split: ResolvedSplit, fmri: Matrix, shapes: SplitShapes, name: 'train' | 'test'): Promise<SplitData> {
    const count = shapes.items;
    const stimuli: ArrayStimuli = {
      ids: Array.from({ length: count }, (_, i) => `${name}-${i}`),
      images: once(() => this.images(spec, split.stimuli, shapes)),
    };
    if (split.captions) {
      const captions = split.captions;
      stimuli.captions = once(async () => {
        const set = new FileSet();
        try {
          const strings = await set.strings(captions);
          if (strings.length !== count) throw new UserError(`${captions.field}: ${strings.length} caption rows, but there are ${count} items`, captions.path);
          return strings;
        } finally {
          await set.close();
        }
      });
    }
    if (split.labels) {
      const labels = await files.vector(split.labels);
      if (labels.length !== count) throw new UserError(`${split.labels.field}: ${labels.length} labels, but there are ${count} items`, split.labels.path);
      stimuli.labels = Int32Array.from(labels);
    }
    return { fmri, stimuli, repeats: new Int32Array(count).fill(1) };
  }

  /** All images of a split, streamed and (optionally) downscaled; downscaled batches go to the cache too. */
  private async images(spec: ResolvedSpec, source: Source, shapes: SplitShapes): Promise<ImageBatch> {
    const g = shapes.geometry;
    const [height, width] = this.outputSize(spec, g);
    const bytes = shapes.items * height * width * g.channels * 4;
    if (bytes > this.options.maxImageBytes) {
      throw new UserError(
        `${source.field}: ${shapes.items} images of ${height}×${width}×${g.channels} take ${(bytes / 1024 ** 3).toFixed(1)} GiB as float32, more than maxImageBytes (${(this.options.maxImageBytes / 1024 ** 3).toFixed(1)} GiB): set imageSize (e.g. 64) to downscale while reading, or raise maxImageBytes`,
        source.path,
      );
    }
    const build = async () => imagesAsMatrix(await this.readImages(source, shapes.items, g, height, width));
    // Full-size images are as quick to read from the input as from a cache copy: only downscaled ones are cached.
    if (height === g.height && width === g.width) return matrixAsImages(await build(), height, width, g.channels);
    const description = { dataset: 'arrays', what: 'images', source: { path: source.path, variable: source.variable }, geometry: g, height, width, files: await fileIdentities([source]) };
    const { value } = await this.services.cache.getOrBuild<Matrix>(
      'datasets',
      description,
      { read: (dir) => readMatrix(join(dir, 'images.npy')), write: (dir, m) => writeMatrix(join(dir, 'images.npy'), m) },
      build,
    );
    return matrixAsImages(value, height, width, g.channels);
  }

  private async readImages(source: Source, count: number, g: ImageGeometry, height: number, width: number): Promise<ImageBatch> {
    const files = new FileSet();
    const converter = new ImageConverter(g, height, width, source);
    const out = new Float32Array(count * height * width * g.channels);
    const step = Math.max(1, Math.floor(IMAGE_READ_BYTES / (4 * g.height * g.width * g.channels)));
    const task = this.services.progress.task(`images ${source.field}`, count);
    try {
      const array = await files.open(source);
      for (let start = 0; start < count; start += step) {
        const end = Math.min(count, start + step);
        converter.convert(await array.readRows(start, end), start, out, start);
        task.tick(end - start);
      }
    } finally {
      task.done();
      await files.close();
    }
    return { count, height, width, channels: g.channels, data: out };
  }
}

function checkVoxels(subject: ResolvedSubject, train: number, test: number): void {
  if (train !== test) {
    throw new UserError(
      `voxel counts of train (${train}, ${subject.train.fmri.path}) and test (${test}, ${subject.test.fmri.path}) differ: both fMRI matrices must have the same columns`,
      `${WHERE} subject ${subject.name}`,
    );
  }
}

/** The declared geometry, or one read off an image-shaped array (items × H × W [× C], HWC) when none is declared. */
function imageGeometry(spec: ResolvedSpec, stimuli: ArraySource, source: Source): ImageGeometry {
  const range = spec.image?.range ?? (stimuli.integer ? 255 : 1);
  if (spec.image) {
    const [height, width, channels = 1] = spec.image.shape as [number, number, number?];
    if (channels !== 1 && channels !== 3) throw new UserError(`image.shape: ${channels} channels, expected 1 or 3`, WHERE);
    return { height, width, channels, layout: spec.image.layout ?? defaultLayout(stimuli, source), range };
  }
  const [, height, width, channels = 1] = stimuli.shape as [number, number?, number?, number?];
  if (height === undefined || width === undefined || stimuli.shape.length > 4 || (channels !== 1 && channels !== 3)) {
    throw new UserError(`${source.field}: cannot tell the image shape from an array of shape (${stimuli.shape.join(', ')}): declare image.shape and image.layout`, source.path);
  }
  return { height, width, channels, layout: 'HWC', range };
}

/**
 * A flattened image row from a .mat file is in MATLAB's column-major order (`reshape(img, 1, [])`): reading it as
 * HWC would transpose every image without a word. Arrays with image axes are already in C order (HWC).
 */
function defaultLayout(stimuli: ArraySource, source: Source): ImageLayout {
  return stimuli.shape.length === 2 && formatOf(source) === 'mat' ? 'F' : 'HWC';
}

async function roiIndices(files: FileSet, source: Source, voxels: number): Promise<Int32Array> {
  const mask = await files.vector(source);
  if (mask.length !== voxels) throw new UserError(`${source.field}: a mask of ${mask.length} values, but the fMRI has ${voxels} voxels`, source.path);
  const indices: number[] = [];
  mask.forEach((v, i) => {
    if (Number.isNaN(v)) throw new UserError(`${source.field}: NaN at voxel ${i} (expected a boolean or integer mask)`, source.path);
    if (v !== 0) indices.push(i);
  });
  return Int32Array.from(indices);
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= fn().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
