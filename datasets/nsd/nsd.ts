/** The `nsd` dataset: NSD's official files → train/test voxel matrices (Brain-Diffuser's construction), atlas, stimuli. */
import { join } from 'node:path';
import { preparedSplitsIo, type CacheOutcome, type PreparedSplits } from '../../core/cache.js';
import type { Dataset, DatasetInfo, SplitData, SubjectData, SubjectSummary } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { withHdf5 } from '../../core/io/hdf5.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';
import { buildAtlas } from './atlas.js';
import { checkSessionFile, readMask, readSessionBetas, type Mask } from './betas.js';
import { planTrials, readDesign, type SplitRows, type TrialPlan } from './design.js';
import {
  checkRoot,
  chooseSessions,
  locate,
  locateSession,
  normalizeSubject,
  NSD_SUBJECTS,
  paths,
  presentSessions,
  ranges,
  requireFile,
  sessionFiles,
  TRIALS_PER_SESSION,
  type LocatedFile,
  type Where,
} from './layout.js';
import { resolveChoices, type NsdOptions, type ResolvedChoices } from './schema.js';
import { findCaptions, readCaptions, readStimulusImages } from './stimuli.js';

const CACHE_KIND = 'datasets';
const CACHE_FORMAT = 1;
/** NSD stores percent signal change × 300 as int16. */
const BETA_SCALE = 300;

interface PreparedMeta {
  voxels: number;
  train: { images: number[]; repeats: number[] };
  test: { images: number[]; repeats: number[] };
}

type Prepared = PreparedSplits<PreparedMeta>;

interface SubjectFiles {
  subject: string;
  number: number;
  design: LocatedFile;
  mask: LocatedFile;
  sessions: Array<{ session: number; file: LocatedFile }>;
}

const fileKey = ({ relative, size, mtimeMs }: LocatedFile) => ({ relative, size, mtimeMs });

export class NsdDataset implements Dataset {
  /** Cache outcomes of the last load: 'assembled' and 'session NN' (for reports and tests). */
  readonly cacheOutcomes = new Map<string, CacheOutcome>();
  private readonly choices: ResolvedChoices;
  private readonly where: Where;

  constructor(
    private readonly options: NsdOptions,
    private readonly services: PluginServices,
  ) {
    this.choices = resolveChoices(options);
    this.where = { betas: options.betas, resolution: options.resolution };
  }

  /** The files a load needs; `sessions` overrides the chosen sessions (describe uses those present). */
  private files(subjectName: string, sessionChoice: number[] | undefined = undefined): SubjectFiles {
    const { root } = this.options;
    checkRoot(root);
    const subject = normalizeSubject(subjectName);
    const design = requireFile(root, paths.design, `${subject}'s trial order`);
    const mask = requireFile(root, paths.roi(subject, this.choices.roi, this.where), `${subject}'s voxel mask (roi '${this.choices.roi}')`);
    const sessions = chooseSessions(root, subject, this.where, sessionChoice ?? this.choices.sessions).map((session) => ({
      session,
      file: locateSession(root, subject, session, this.where)!,
    }));
    return { subject, number: Number(subject.slice(4)), design, mask, sessions };
  }

  async load(subjectName: string): Promise<SubjectData> {
    const files = this.files(subjectName);
    const mask = await readMask(files.mask, this.choices.voxelOrder);
    const description = {
      dataset: 'nsd',
      format: CACHE_FORMAT,
      subject: files.subject,
      design: fileKey(files.design),
      mask: mask.hash,
      sessions: files.sessions.map(({ file }) => fileKey(file)),
      repeats: this.choices.repeats,
      split: this.options.split,
    };
    this.cacheOutcomes.clear();
    const { value, outcome } = await this.services.cache.getOrBuild(CACHE_KIND, description, preparedIo, () => this.prepare(files, mask));
    this.cacheOutcomes.set('assembled', outcome);
    const { atlas } = await buildAtlas(this.options.root, files.subject, this.where, this.options.atlasRois, mask);
    return {
      subject: files.subject,
      train: this.split(value.train, value.meta.train),
      test: this.split(value.test, value.meta.test),
      atlas: Object.fromEntries(Object.entries(atlas).map(([roi, columns]) => [roi, Int32Array.from(columns)])),
    };
  }

  /** Reads (or takes from the cache) each session's masked betas and averages them into rows. */
  private async prepare(files: SubjectFiles, mask: Mask): Promise<Prepared> {
    const design = await readDesign(files.design.path, files.design.relative);
    const plan = planTrials(design, files.number, files.sessions.map((s) => s.session), this.choices.repeats, files.design.relative);
    const V = mask.voxels.length;
    const train = new Float32Array(plan.train.images.length * V);
    const test = new Float32Array(plan.test.images.length * V);
    const task = this.services.progress.task(`nsd ${files.subject}: betas of ${files.sessions.length} sessions (${V} voxels)`, files.sessions.length);
    try {
      for (const { session, file } of files.sessions) {
        const betas = await this.sessionBetas(files.subject, session, file, mask);
        accumulate(betas, (session - 1) * TRIALS_PER_SESSION, V, plan, train, test);
        task.tick(1, `session ${session}`);
      }
    } finally {
      task.done();
    }
    // Sums of int16 are exact in float32 (< 2^24); the mean and the scale are applied once, in float64.
    finish(train, plan.train, V);
    finish(test, plan.test, V);
    const repeats = (rows: SplitRows) => rows.trials.map((t) => t.length);
    return {
      train: { rows: plan.train.images.length, cols: V, data: train },
      test: { rows: plan.test.images.length, cols: V, data: test },
      meta: {
        voxels: V,
        train: { images: plan.train.images, repeats: repeats(plan.train) },
        test: { images: plan.test.images, repeats: repeats(plan.test) },
      },
    };
  }

  /** One session's masked raw betas, each session its own cache entry so that a killed preparation resumes. */
  private async sessionBetas(subject: string, session: number, file: LocatedFile, mask: Mask): Promise<Int16Array> {
    const description = { dataset: 'nsd', part: 'session-betas', format: CACHE_FORMAT, subject, session, file: fileKey(file), mask: mask.hash };
    const io = {
      read: async (dir: string): Promise<Int16Array> => {
        const array = await readNpy(join(dir, 'betas.npy'));
        if (!(array.data instanceof Int16Array) || array.data.length !== TRIALS_PER_SESSION * mask.voxels.length) throw new Error('unexpected cached session array');
        return array.data;
      },
      write: (dir: string, data: Int16Array) => writeNpy(join(dir, 'betas.npy'), { shape: [TRIALS_PER_SESSION, mask.voxels.length], data }),
    };
    const neededBy = `${subject} session ${session}`;
    const { value, outcome } = await this.services.cache.getOrBuild(CACHE_KIND, description, io, () =>
      readSessionBetas(file, mask, this.options.maxReadMiB * 1024 * 1024, neededBy),
    );
    this.cacheOutcomes.set(`session ${String(session).padStart(2, '0')}`, outcome);
    return value;
  }

  private split(fmri: Matrix, rows: PreparedMeta['train']): SplitData {
    const { root, imageSize, captions } = this.options;
    const source = findCaptions(root, captions);
    return {
      fmri,
      repeats: Int32Array.from(rows.repeats),
      stimuli: {
        ids: rows.images.map(String),
        images: () => readStimulusImages(root, rows.images, imageSize),
        ...(source ? { captions: () => readCaptions(root, source, rows.images) } : {}),
      },
    };
  }

  async describe(): Promise<DatasetInfo> {
    const { root, imageSize } = this.options;
    checkRoot(root);
    const subjects: string[] = [];
    const summaries: SubjectSummary[] = [];
    const notes: string[] = [];
    const unusable: Record<string, string> = {};
    const missing: string[] = [];
    for (const shared of [paths.design, paths.stimInfo, paths.stimuli]) if (!locate(root, shared)) missing.push(`'${shared}'`);
    for (const subject of NSD_SUBJECTS) {
      const present = presentSessions(root, subject, this.where);
      const maskPath = paths.roi(subject, this.choices.roi, this.where);
      if (present.length === 0 && !locate(root, maskPath)) continue;
      const expected = this.expectedSessions(present);
      const absent = expected.filter((s) => !present.includes(s));
      if (absent.length > 0) missing.push(`${sessionFiles(subject, absent, this.where)} (${subject} session${absent.length > 1 ? 's' : ''} ${ranges(absent)})`);
      if (!locate(root, maskPath)) missing.push(`'${maskPath}' (${subject} mask)`);
      for (const roi of this.options.atlasRois) {
        if (!locate(root, paths.roi(subject, roi, this.where))) missing.push(`'${paths.roi(subject, roi, this.where)}' (${subject} atlas)`);
        else if (!locate(root, paths.ctab(subject, roi))) missing.push(`'${paths.ctab(subject, roi)}' (${subject} label names)`);
      }
      try {
        const usable = expected.filter((s) => present.includes(s));
        summaries.push(await this.summarize(subject, usable));
        subjects.push(subject);
        notes.push(`${subject}: sessions present ${ranges(present) || 'none'}; summary over sessions ${ranges(usable) || 'none'}`);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        notes.push(`${subject}: ${error.message}`);
        unusable[subject] = error.message;
      }
    }
    if (subjects.length === 0) notes.push('no subject with a mask and beta sessions found');
    notes.push(await this.imageNote());
    const captionSource = findCaptions(root, this.options.captions);
    notes.push(captionSource ? `captions from ${captionSource.relative}` : 'no captions (COCO_73k_annots_curated.npy or captions_{train,val}2017.json not found)');
    notes.push(missing.length > 0 ? `missing: ${missing.join('; ')}` : 'no expected file is missing');
    return { id: 'nsd', subjects, imageShape: [imageSize, imageSize, 3], captions: captionSource !== undefined, summaries, notes, unusable };
  }

  private expectedSessions(present: number[]): number[] {
    const choice = this.choices.sessions;
    if (typeof choice === 'number') return Array.from({ length: choice }, (_, i) => i + 1);
    if (Array.isArray(choice)) return choice;
    return Array.from({ length: Math.max(0, ...present) }, (_, i) => i + 1);
  }

  private async summarize(subject: string, sessions: number[]): Promise<SubjectSummary> {
    const files = this.files(subject, sessions);
    const mask = await readMask(files.mask, this.choices.voxelOrder);
    for (const { session, file } of files.sessions) await checkSessionFile(file, mask, `${subject} session ${session}`);
    const design = await readDesign(files.design.path, files.design.relative);
    const plan = planTrials(design, files.number, files.sessions.map((s) => s.session), this.choices.repeats, files.design.relative);
    const { atlas } = await buildAtlas(this.options.root, subject, this.where, this.options.atlasRois, mask);
    return {
      subject,
      trainItems: plan.train.images.length,
      testItems: plan.test.images.length,
      voxels: mask.voxels.length,
      rois: Object.fromEntries(Object.entries(atlas).map(([roi, columns]) => [roi, columns.length])),
    };
  }

  private async imageNote(): Promise<string> {
    const file = locate(this.options.root, paths.stimuli);
    if (!file) return 'no stimulus images (nsd_stimuli.hdf5 not found): fMRI only';
    try {
      const shape = await withHdf5(file.path, (h5) => h5.info('/imgBrick').shape);
      return `images: ${shape[0]} in ${file.relative} (${shape.slice(1).join('×')}), read as ${this.options.imageSize}×${this.options.imageSize}`;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return `images unreadable: ${error.message}`;
    }
  }
}

const preparedIo = preparedSplitsIo<PreparedMeta>();

/** Adds each trial of a session (raw int16, trial-major) to the sum of its row. */
function accumulate(betas: Int16Array, firstTrial: number, V: number, plan: TrialPlan, train: Float32Array, test: Float32Array): void {
  for (let i = 0; i < TRIALS_PER_SESSION; i++) {
    const row = plan.rowOf.get(firstTrial + i);
    if (row === undefined) continue;
    const [out, r] = row >= 0 ? [train, row] : [test, -row - 1];
    const source = betas.subarray(i * V, (i + 1) * V);
    const target = out.subarray(r * V, (r + 1) * V);
    for (let v = 0; v < V; v++) target[v]! += source[v]!;
  }
}

function finish(sums: Float32Array, rows: SplitRows, V: number): void {
  rows.trials.forEach((trials, r) => {
    const divisor = trials.length * BETA_SCALE;
    for (let v = r * V; v < (r + 1) * V; v++) sums[v] = sums[v]! / divisor;
  });
}
