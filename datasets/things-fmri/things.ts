/** The `things-fmri` dataset: THINGS-data single-trial tables → train/test voxel matrices, ROI atlas, images. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preparedSplitsIo, type PreparedSplits } from '../../core/cache.js';
import type { Dataset, DatasetInfo, SplitData, SubjectData, SubjectSummary } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { readColumns, readTable } from '../../core/io/csv.js';
import { withHdf5 } from '../../core/io/hdf5.js';
import { loadImageBatch } from '../../core/io/image.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { checkRoot, describeMissing, locateSubject, normalizeSubject, requireSubjectFiles, THINGS_SUBJECTS, type FileRole, type LocatedFile } from './layout.js';
import { checkVoxelIds, planTrials, selectVoxels, voxelTableRequest, type SplitPlan, type TrialPlan, type VoxelSelection } from './metadata.js';
import { planSlabs, readSlabs, responseLayout } from './responses.js';
import { noiseCeilingColumn, type ThingsFmriOptions } from './schema.js';

/** Everything cached per subject besides the two matrices. */
interface PreparedMeta {
  voxelRows: number[];
  atlas: Record<string, number[]>;
  noiseCeiling: number[] | null;
  /** Selected voxels with at least one non-finite value (core's preprocessing drops them). */
  nonFiniteVoxels: number;
  otherTrials: number;
  train: { stimuli: string[]; concepts: string[]; repeats: number[] };
  test: { stimuli: string[]; concepts: string[]; repeats: number[] };
}

type Prepared = PreparedSplits<PreparedMeta>;

const CACHE_KIND = 'datasets';
const CACHE_FORMAT = 1;
class NotCached extends Error {}

export class ThingsFmriDataset implements Dataset {
  /** Cache outcome of the last load per subject (for reports and tests). */
  readonly cacheOutcomes = new Map<string, string>();

  constructor(
    private readonly options: ThingsFmriOptions,
    private readonly services: PluginServices,
  ) {}

  private cacheDescription(subject: string, files: Record<FileRole, LocatedFile>): unknown {
    const { rois, averageTestRepeats, noiseCeilingUnit } = this.options;
    return {
      dataset: 'things-fmri',
      format: CACHE_FORMAT,
      subject,
      files: Object.values(files).map(({ relative, size, mtimeMs }) => ({ relative, size, mtimeMs })),
      options: { rois, averageTestRepeats, noiseCeilingColumn: noiseCeilingColumn(this.options), noiseCeilingUnit },
    };
  }

  private readonly cacheIo = preparedSplitsIo<PreparedMeta>();

  async load(subjectName: string): Promise<SubjectData> {
    const subject = normalizeSubject(subjectName);
    const files = requireSubjectFiles(this.options.root, subject);
    const { value, outcome } = await this.services.cache.getOrBuild(CACHE_KIND, this.cacheDescription(subject, files), this.cacheIo, () =>
      this.prepare(subject, files),
    );
    this.cacheOutcomes.set(subject, outcome);
    const { meta } = value;
    return {
      subject,
      train: this.split(value.train, meta.train),
      test: this.split(value.test, meta.test),
      atlas: Object.fromEntries(Object.entries(meta.atlas).map(([roi, cols]) => [roi, Int32Array.from(cols)])),
      ...(meta.noiseCeiling ? { noiseCeiling: Float32Array.from(meta.noiseCeiling, (v) => v ?? NaN) } : {}),
    };
  }

  /** Reads the metadata tables and the response layout, checking that their shapes agree. */
  private async plan(subject: string, files: Record<FileRole, LocatedFile>): Promise<{ trials: TrialPlan; voxels: VoxelSelection }> {
    const ceiling = noiseCeilingColumn(this.options);
    const stimulusTable = await readTable(files.stimuli.path);
    // VoxelMetadata is wide (211k voxels × hundreds of columns): stream it, keeping only the columns used here.
    const voxelTable = await readColumns(files.voxels.path, (columns) => voxelTableRequest(columns, this.options.rois, ceiling));
    const layout = await withHdf5(files.responses.path, (file) => responseLayout(file));
    const where = `${subject}: ${files.responses.relative}`;
    if (layout.trials !== stimulusTable.length) {
      throw new UserError(`ResponseData has ${layout.trials} trial columns but ${files.stimuli.relative} has ${stimulusTable.length} rows (row i must describe trial column i)`, where);
    }
    if (layout.voxels !== voxelTable.length) {
      throw new UserError(`ResponseData has ${layout.voxels} voxel rows but ${files.voxels.relative} has ${voxelTable.length} rows (row i must describe voxel row i)`, where);
    }
    checkVoxelIds(voxelTable, layout.voxelIds, files.responses.relative);
    return {
      trials: planTrials(stimulusTable, this.options.averageTestRepeats),
      voxels: selectVoxels(voxelTable, this.options.rois, ceiling, this.options.noiseCeilingUnit),
    };
  }

  private async prepare(subject: string, files: Record<FileRole, LocatedFile>): Promise<Prepared> {
    const { trials, voxels } = await this.plan(subject, files);
    const width = voxels.rows.length;
    const train = new Float32Array(trials.train.rows.length * width);
    const test = new Float32Array(trials.test.rows.length * width);
    const maxBytes = this.options.maxReadMiB * 1024 * 1024;
    const nonFinite = new Uint8Array(width);
    await withHdf5(files.responses.path, (file) => {
      const layout = responseLayout(file);
      const slabs = planSlabs(voxels.rows, layout.trials * layout.itemSize, maxBytes);
      const task = this.services.progress.task(`things-fmri ${subject}: ResponseData (${width} voxels)`, slabs.length);
      let column = 0;
      try {
        readSlabs(file, layout, slabs, maxBytes, ({ start, end, data }) => {
          for (; column < width && voxels.rows[column]! < end; column++) {
            const values = data.subarray((voxels.rows[column]! - start) * layout.trials, (voxels.rows[column]! - start + 1) * layout.trials);
            if (fillColumn(values, trials.train.rows, train, width, column) | fillColumn(values, trials.test.rows, test, width, column)) nonFinite[column] = 1;
          }
          task.tick(1);
        });
      } finally {
        task.done();
      }
    });
    const repeats = (plan: SplitPlan) => plan.rows.map((r) => r.length);
    return {
      train: { rows: trials.train.rows.length, cols: width, data: train },
      test: { rows: trials.test.rows.length, cols: width, data: test },
      meta: {
        voxelRows: voxels.rows,
        atlas: voxels.atlas,
        noiseCeiling: voxels.noiseCeiling,
        nonFiniteVoxels: nonFinite.reduce((a, b) => a + b, 0),
        otherTrials: trials.otherTrials,
        train: { stimuli: trials.train.stimuli, concepts: trials.train.concepts, repeats: repeats(trials.train) },
        test: { stimuli: trials.test.stimuli, concepts: trials.test.concepts, repeats: repeats(trials.test) },
      },
    };
  }

  private split(fmri: Matrix, plan: PreparedMeta['train']): SplitData {
    return {
      fmri,
      repeats: Int32Array.from(plan.repeats),
      stimuli: {
        ids: plan.stimuli,
        images: () => this.images(plan.stimuli, plan.concepts),
        captions: () => Promise.resolve(plan.concepts.map((c) => [c.replace(/_/g, ' ')])),
      },
    };
  }

  private async images(stimuli: string[], concepts: string[]): Promise<ImageBatch> {
    if (this.options.images === undefined) {
      throw new UserError("images are needed but option 'images' is not set (give the THINGS image folder holding object_images/<concept>/<file>.jpg)", 'things-fmri');
    }
    const base = existsSync(join(this.options.images, 'object_images')) ? join(this.options.images, 'object_images') : this.options.images;
    const paths = stimuli.map((stimulus, i) => {
      const relative = stimulus.includes('/') ? stimulus : `${concepts[i]}/${stimulus}`;
      const path = join(base, relative);
      if (!existsSync(path)) throw new UserError(`missing stimulus image 'object_images/${relative}' (expected under ${base})`, this.options.images);
      return path;
    });
    const size = this.options.imageSize;
    return loadImageBatch(paths, { channels: 3, width: size, height: size });
  }

  async describe(): Promise<DatasetInfo> {
    const { root, imageSize } = this.options;
    checkRoot(root);
    const subjects: string[] = [];
    const summaries: SubjectSummary[] = [];
    const notes: string[] = [];
    const unusable: Record<string, string> = {};
    for (const subject of THINGS_SUBJECTS) {
      const located = locateSubject(root, subject);
      if (located.missing.length === 3) {
        notes.push(`${subject}: not present (no ${subject}_ResponseData.h5, _VoxelMetadata.csv or _StimulusMetadata.csv, flat or in betas_csv/)`);
        continue;
      }
      if (located.missing.length > 0) {
        notes.push(...describeMissing(located));
        unusable[subject] = describeMissing(located).join('; ');
        continue;
      }
      try {
        const { summary, note } = await this.summarize(subject, located.found as Record<FileRole, LocatedFile>);
        subjects.push(subject);
        summaries.push(summary);
        notes.push(note);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        notes.push(`${subject}: ${error.message}`);
        unusable[subject] = error.message;
      }
    }
    notes.push(this.options.images ? `images from ${this.options.images}, resized to ${imageSize}×${imageSize}` : "no image folder (option 'images'): fMRI only");
    return { id: 'things-fmri', subjects, imageShape: [imageSize, imageSize, 3], captions: true, summaries, notes, unusable };
  }

  /** From the cache when the subject was prepared before (NaN voxels known), else from the metadata alone. */
  private async summarize(subject: string, files: Record<FileRole, LocatedFile>): Promise<{ summary: SubjectSummary; note: string }> {
    const cached = await this.services.cache
      .getOrBuild(CACHE_KIND, this.cacheDescription(subject, files), { read: async (dir) => JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as PreparedMeta, write: async () => {} }, () =>
        Promise.reject(new NotCached()),
      )
      .then(
        (r) => r.value,
        (error: unknown) => {
          if (error instanceof NotCached) return undefined;
          throw error;
        },
      );
    const rois = (atlas: Record<string, unknown[]>) => Object.fromEntries(Object.entries(atlas).map(([roi, cols]) => [roi, cols.length]));
    if (cached) {
      return {
        summary: { subject, trainItems: cached.train.stimuli.length, testItems: cached.test.stimuli.length, voxels: cached.voxelRows.length, rois: rois(cached.atlas) },
        note: `${subject}: ${cached.nonFiniteVoxels} selected voxels with NaN/infinite values (dropped by core's preprocessing)${cached.otherTrials ? `; ${cached.otherTrials} trials neither train nor test left out` : ''}`,
      };
    }
    const { trials, voxels } = await this.plan(subject, files);
    return {
      summary: { subject, trainItems: trials.train.rows.length, testItems: trials.test.rows.length, voxels: voxels.rows.length, rois: rois(voxels.atlas) },
      note: `${subject}: files found (${Object.values(files).map((f) => f.relative).join(', ')}); NaN voxels are counted at the first load`,
    };
  }
}

/** Writes one voxel's values (trial columns averaged per output row) into column `column`; true if any is non-finite. */
function fillColumn(values: Float64Array, rows: number[][], out: Float32Array, width: number, column: number): number {
  let bad = 0;
  rows.forEach((trials, row) => {
    let sum = 0;
    for (const t of trials) sum += values[t]!;
    const mean = sum / trials.length;
    if (!Number.isFinite(mean)) bad = 1;
    out[row * width + column] = mean;
  });
  return bad;
}
