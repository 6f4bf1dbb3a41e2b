/**
 * The experiment runner: for every pipeline × subject, load and preprocess the data, fit the generator on the
 * training stimuli, encode targets, fit one mapper per target space (cached), predict the test set (cached),
 * generate images, and score every metric — with the trivial predictor (mean training target) beside it.
 */
import {
  asGeneration,
  type ColumnBlocks,
  type Dataset,
  type DatasetInfo,
  type FittedGenerator,
  type Generation,
  type GenerateContext,
  type FittedMapper,
  type Mapper,
  type Metric,
  type MetricInput,
  type MetricResult,
  type PluginKind,
  type StimulusBatch,
  type SubjectData,
  type TargetSpace,
} from './contracts.js';
import { blockColumnMeans, ColumnBlockWriter, singleBlock, wholeMatrix } from './column-blocks.js';
import { DEFAULT_TARGET_BLOCK_COLUMNS } from './config.js';
import type { CacheOutcome } from './cache.js';
import { pairedComparisons, type PairedComparisonRow } from './comparisons.js';
import { cacheProducer, readMatrix, writeMatrix } from './cache.js';
import type { Core } from './core.js';
import { UserError } from './errors.js';
import { checkMapperRois, selectRois, takeColumns } from './mapper-rois.js';
import { checkMapperSpaces, DEFAULT_TRIVIAL_ITEMS, type ExperimentSpec, type PipelineSpec, type PluginRef } from './pipeline.js';
import { dropUnusableVoxels, PREPROCESSING_ID, type DroppedRows } from './preprocess.js';
import type { Provenance } from './registry.js';
import { bootstrapMeanInterval } from './stats.js';
import { Rng } from './rng.js';
import { takeImages, takeRows, type ImageBatch, type Matrix } from './tensor.js';
import { checkFinite, checkFitInputs } from './validation.js';
import { toRanges, type FittedMapperRecord } from './exported-model.js';
import { PACKAGE_VERSION } from './version.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelLayout } from './models/folder.js';
import type { ModelStore } from './models/store.js';
import type { PluginServices } from './services.js';
import { TOKENS } from './tokens.js';

export interface MetricRow {
  pipeline: string;
  subject: string;
  /** `image`, or the name of a target space for latent metrics. */
  target: string;
  metric: string;
  /** The metric's qualifier for this run (e.g. `150-way`), from its result; shown after the metric's name. */
  note?: string;
  direction: 'higher' | 'lower';
  /** null when the metric was undefined for some items (see `problem`): never a silent NaN. */
  value: number | null;
  low: number | null;
  high: number | null;
  /** The same metric for the trivial predictor (mean training target). */
  trivial: number | null;
  items: number;
  /** The trivial value was computed on this many seeded test items only (a costly generator; `trivialItems`). */
  trivialItems?: number;
  /** With --limit: scored on the first `items` of the `of` test items. */
  limited?: { items: number; of: number };
  problem?: string;
}

export interface MapperOutcome {
  space: string;
  mapper: string;
  fit: CacheOutcome;
  predict: CacheOutcome;
  seconds: number;
  summary: Record<string, unknown>;
  /** Its cache entry, plugin and voxel columns: what `neurodecode export` needs to use it outside the run. */
  model: FittedMapperRecord;
}

export interface PipelineOutcome {
  pipeline: string;
  subject: string;
  provenance: Provenance[];
  mappers: MapperOutcome[];
  voxels: number;
  droppedVoxels: { nonFinite: number; constant: number };
  /** Ids of the rows dropped as missing trials (mostly non-finite): train rows left out of fitting, test rows missing from every metric. */
  droppedRows: DroppedRows;
  trainItems: number;
  testItems: number;
  seconds: number;
  /** `target/metric` → per-item values, for paired statistics afterwards. */
  perItem: Record<string, number[]>;
  testIds: string[];
  /** With --limit: images were generated and scored for the first `items` of the `of` test items only. */
  limited?: { items: number; of: number };
  reconstructions: ImageBatch;
  /** A generator's intermediate images by label (two-stage's `stage 1`), as scored. */
  stages?: Record<string, ImageBatch>;
  truth: ImageBatch;
  /** Every model folder a plugin of this run declared (generator, mappers, metrics), with its digest. */
  models: ModelUse[];
}

/** A model folder one plugin used: what the provenance shows, so that a result names the exact weights behind it. */
export interface ModelUse {
  kind: PluginKind;
  /** The plugin id (`alexnet-2`, `vdvae`). */
  plugin: string;
  /** What the network is for (the plugin's ModelRequirement role). */
  role: string;
  name: string;
  path: string;
  layout: ModelLayout;
  /** ModelStore.folderDigest: sha256 over every graph file's sha256, the digest feature caches and VDVAE's keys hold. */
  digest: string;
}

export interface ExperimentResult {
  name: string;
  version: string;
  rows: MetricRow[];
  outcomes: PipelineOutcome[];
  /** Every pipeline against the first, per subject, metric and target (paired over test items). */
  comparisons: PairedComparisonRow[];
}

export type RunEvent = { pipeline: string; subject: string; message: string };

export interface RunOptions {
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Generate and score only the first N test items (a quick look; every row says so). */
  limit?: number;
}

interface PreparedSubject {
  data: SubjectData;
  dropped: { nonFinite: number; constant: number };
  droppedRows: DroppedRows;
  /** The dataset's voxels per item, and which of them preprocessing kept (the columns of `data`'s fMRI). */
  sourceVoxels: number;
  keptVoxels: Int32Array;
  trainImages: ImageBatch;
  testImages: ImageBatch;
  trainCaptions?: string[][];
  testCaptions?: string[][];
}

interface PreparedGenerator {
  fitted: FittedGenerator;
  /** Spaces wider than `targetBlockColumns` as column blocks on disk, the others as one in-memory block. */
  trainTargets: Record<string, ColumnBlocks>;
  testTargets: Record<string, Matrix>;
  /** The generator's options that decide the targets (factory.targetOptions): what the mappers' cache keys hold. */
  targetOptions: Record<string, unknown>;
  provenance: Provenance;
}

function refKey(ref: PluginRef): string {
  return JSON.stringify([ref.id, ref.options]);
}

function subjectKey(ref: PluginRef, subject: string): string {
  return `${refKey(ref)}|${subject}`;
}

function generatorKey(pipeline: PipelineSpec, subject: string): string {
  return `${subjectKey(pipeline.dataset, subject)}|${refKey(pipeline.generator)}|${pipeline.seed}`;
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** The trivial predictor: every test row is the mean training target. */
async function meanRows(train: ColumnBlocks, rows: number): Promise<Matrix> {
  const mean = await blockColumnMeans(train);
  const out = new Float32Array(rows * train.cols);
  for (let i = 0; i < rows; i++) out.set(mean, i * train.cols);
  return { rows, cols: train.cols, data: out };
}

/**
 * Rows per encode call when some space streams to disk: a chunk of all spaces together holds as many values as
 * 8,192 rows of one block (2²⁶ values, 256 MB, at the default block width).
 */
function encodeChunkRows(spaces: TargetSpace[], blockColumns: number): number {
  const width = spaces.reduce((sum, s) => sum + s.dims, 0);
  return Math.max(1, Math.floor((8192 * blockColumns) / Math.max(1, width)));
}

function sliceStimuli(batch: StimulusBatch, start: number, end: number): StimulusBatch {
  const index = Array.from({ length: end - start }, (_, k) => start + k);
  return {
    ids: batch.ids.slice(start, end),
    images: takeImages(batch.images, index),
    ...(batch.captions ? { captions: batch.captions.slice(start, end) } : {}),
    ...(batch.source ? { source: batch.source } : {}),
  };
}

/** Why a dataset lists no subject: the reasons it gave per subject, else its notes. */
function whyNoSubject(info: DatasetInfo): string {
  const reasons = Object.entries(info.unusable ?? {}).map(([subject, why]) => `${subject}: ${why}`);
  return (reasons.length > 0 ? reasons : info.notes).join('; ') || 'it gave no reason';
}

/** The fitted generator's spaces must be those it declared before fit (a plugin bug otherwise), and have mappers. */
function checkFittedSpaces(pipeline: PipelineSpec, fitted: TargetSpace[], declared: string[] | undefined): void {
  const names = fitted.map((s) => s.name);
  if (declared && (names.length !== declared.length || names.some((n) => !declared.includes(n)))) {
    throw new UserError(
      `fitted targets() are ${names.join(', ') || 'none'}, but its factory's targetSpaces() declared ${declared.join(', ') || 'none'}`,
      `generator '${pipeline.generator.id}'`,
    );
  }
  checkMapperSpaces(pipeline, names);
}

/** A generation's shape, checked before any metric reads it (a plugin bug otherwise, named). */
export function checkGeneration(generation: Generation, items: number, generator: string): Generation {
  const where = `generator '${generator}'`;
  if (generation.samples.length === 0) throw new UserError('generate returned no sample', where);
  for (const [label, batch] of [...generation.samples.map((b, s) => [`sample ${s + 1}`, b] as const), ...Object.entries(generation.stages ?? {})]) {
    if (batch.count !== items) throw new UserError(`generate returned ${batch.count} images in ${label} for ${items} predicted rows`, where);
  }
  return generation;
}

/** Indices (sorted) of the test items the trivial floor is generated for, or undefined for all of them. */
function trivialSubset(pipeline: PipelineSpec, items: number, costly: boolean): Int32Array | undefined {
  const wanted = pipeline.trivialItems === 'all' ? items : pipeline.trivialItems === 'auto' ? (costly ? DEFAULT_TRIVIAL_ITEMS : items) : pipeline.trivialItems;
  if (wanted >= items) return undefined;
  return new Rng(pipeline.seed).permutation(items).slice(0, wanted).sort();
}

/**
 * One metric over one or more samples: with several, each item's value is the mean over the samples (and a
 * set-level metric's value the mean of its per-sample values), as Takagi's identification averages them.
 */
export async function scoreSamples(metric: Metric, samples: ImageBatch[], truth: ImageBatch, context: { seed: number }): Promise<MetricResult> {
  const results: MetricResult[] = [];
  for (const pred of samples) results.push(await metric.compute({ kind: 'image', pred, truth }, context));
  if (results.length === 1) return results[0]!;
  const perItem = new Float64Array(results[0]!.perItem.length);
  for (const r of results) for (let i = 0; i < perItem.length; i++) perItem[i]! += r.perItem[i]! / results.length;
  const value = results.reduce((sum, r) => sum + r.value, 0) / results.length;
  const note = [results[0]!.note, `mean of ${results.length} samples`].filter(Boolean).join(', ');
  return { value, perItem, note };
}

export class ExperimentRunner {
  private readonly datasets = new Map<string, { dataset: Dataset; provenance: Provenance }>();
  private readonly subjects = new Map<string, Promise<PreparedSubject>>();
  private readonly generators = new Map<string, Promise<PreparedGenerator>>();
  /** Encoded targets by subject, generator id, target options and seed (shared by generation-only variants). */
  private readonly targets = new Map<string, Promise<Pick<PreparedGenerator, 'trainTargets' | 'testTargets'>>>();
  private readonly metrics = new Map<string, { metric: Metric; provenance: Provenance }>();
  /** Folders of streamed target blocks, removed when the run ends. */
  private readonly scratch: string[] = [];

  constructor(
    private readonly core: Core,
    private readonly options: RunOptions = {},
  ) {}

  /**
   * Checks every plugin id and option set, then every pretrained model the plugins declare (folder, layout, each
   * graph opened and its signature compared), before any long step starts. The sessions stay open in the model
   * store for the plugins that run them.
   */
  async validate(spec: ExperimentSpec): Promise<void> {
    const { registry } = this.core;
    const models = this.core.container.get<ModelStore>(TOKENS.Models);
    const checked = new Set<string>();
    for (const p of spec.pipelines) {
      // Generators that declare their spaces get `mappers` checked now; the others after their fit (runPipeline).
      const generatorOptions = registry.resolveOptions('generator', p.generator.id, p.generator.options);
      const spaces = registry.factory('generator', p.generator.id).targetSpaces?.(generatorOptions);
      if (spaces) checkMapperSpaces(p, spaces);
      const refs: Array<[PluginKind, PluginRef]> = [
        ['dataset', p.dataset],
        ['generator', p.generator],
        ...Object.values(p.mappers).map((m): [PluginKind, PluginRef] => ['mapper', m]),
        ...p.metrics.map((m): [PluginKind, PluginRef] => ['metric', m]),
      ];
      for (const [kind, ref] of refs) {
        const options = registry.resolveOptions(kind, ref.id, ref.options);
        const needs = registry.factory(kind, ref.id).models?.(options) ?? [];
        for (const requirement of needs) {
          const key = JSON.stringify(requirement);
          if (checked.has(key)) continue;
          await models.require(requirement, `${kind} '${ref.id}'${ref.set ? ` (from ${ref.set})` : ''} in ${p.name}`);
          checked.add(key);
        }
      }
    }
  }

  /** Every ref's relative path options resolved against the folder of the file that named it (core/paths.ts). */
  private withAbsolutePaths(spec: ExperimentSpec): ExperimentSpec {
    const { registry } = this.core;
    const absolute = (kind: PluginKind, ref: PluginRef): PluginRef =>
      ref.baseDir === undefined
        ? ref
        : { id: ref.id, options: registry.resolvePaths(kind, ref.id, ref.options, ref.baseDir), ...(ref.set ? { set: ref.set } : {}), ...(ref.rois ? { rois: ref.rois } : {}) };
    return {
      ...spec,
      pipelines: spec.pipelines.map((p) => ({
        ...p,
        dataset: absolute('dataset', p.dataset),
        generator: absolute('generator', p.generator),
        mappers: Object.fromEntries(Object.entries(p.mappers).map(([space, m]) => [space, absolute('mapper', m)])),
        metrics: p.metrics.map((m) => absolute('metric', m)),
      })),
    };
  }

  async run(input: ExperimentSpec): Promise<ExperimentResult> {
    const spec = this.withAbsolutePaths(input);
    await this.validate(spec);
    await this.core.cache.prepare();
    const rows: MetricRow[] = [];
    const outcomes: PipelineOutcome[] = [];
    const plan: Array<{ pipeline: PipelineSpec; subject: string }> = [];
    for (const pipeline of spec.pipelines) {
      const { dataset } = await this.dataset(pipeline.dataset);
      const info = await dataset.describe();
      // `all` (--subject all, presets): every usable subject of the dataset.
      const subjects = pipeline.subjects.includes('all') ? info.subjects : pipeline.subjects.length > 0 ? pipeline.subjects : info.subjects.slice(0, 1);
      if (subjects.length === 0) throw new UserError(`dataset '${pipeline.dataset.id}' has no usable subject: ${whyNoSubject(info)}`, pipeline.name);
      for (const subject of subjects) {
        const why = info.unusable?.[subject];
        if (why !== undefined) throw new UserError(`dataset '${pipeline.dataset.id}' cannot use subject '${subject}': ${why}`, pipeline.name);
        if (!info.subjects.includes(subject)) {
          const has = info.subjects.length > 0 ? `it has ${info.subjects.join(', ')}` : `it has no usable subject: ${whyNoSubject(info)}`;
          throw new UserError(`dataset '${pipeline.dataset.id}' has no subject '${subject}' (${has})`, pipeline.name);
        }
        plan.push({ pipeline, subject });
      }
    }
    const task = this.core.progress.task('pipelines', plan.length);
    try {
      for (const { pipeline, subject } of plan) {
        this.options.signal?.throwIfAborted();
        const outcome = await this.runPipeline(pipeline, subject, rows);
        outcomes.push(outcome);
        task.tick(1, `${pipeline.name} ${subject}`);
      }
    } finally {
      for (const dir of this.scratch.splice(0)) await rm(dir, { recursive: true, force: true });
    }
    task.done();
    const comparisons = pairedComparisons(rows, outcomes, spec.pipelines[0]?.seed ?? 0);
    return { name: spec.name, version: PACKAGE_VERSION, rows, outcomes, comparisons };
  }

  private say(pipeline: string, subject: string, message: string): void {
    this.options.onEvent?.({ pipeline, subject, message });
  }

  private async dataset(ref: PluginRef) {
    const key = refKey(ref);
    let entry = this.datasets.get(key);
    if (!entry) {
      const { instance, provenance } = await this.core.registry.create('dataset', ref.id, ref.options);
      entry = { dataset: instance, provenance };
      this.datasets.set(key, entry);
    }
    return entry;
  }

  private prepareSubject(ref: PluginRef, subject: string): Promise<PreparedSubject> {
    const key = subjectKey(ref, subject);
    let prepared = this.subjects.get(key);
    if (!prepared) {
      prepared = (async () => {
        const { dataset } = await this.dataset(ref);
        const loaded = await dataset.load(subject);
        const { data, dropped, droppedRows, keptVoxels } = dropUnusableVoxels(loaded);
        const missing = (split: 'train' | 'test') =>
          droppedRows[split].length > 0 ? ` (${droppedRows[split].length} ${split} rows dropped: more than half of their voxels non-finite)` : '';
        if (data.test.fmri.rows === 0) throw new UserError(`subject ${subject} has an empty test set${missing('test')}`, `dataset '${ref.id}'`);
        if (data.train.fmri.rows === 0) throw new UserError(`subject ${subject} has an empty training set${missing('train')}`, `dataset '${ref.id}'`);
        if (data.train.fmri.cols === 0) throw new UserError(`subject ${subject} has no usable voxels`, `dataset '${ref.id}'`);
        const [trainImages, testImages] = await Promise.all([data.train.stimuli.images(), data.test.stimuli.images()]);
        for (const [split, images, fmri] of [['train', trainImages, data.train.fmri], ['test', testImages, data.test.fmri]] as const) {
          if (images.count !== fmri.rows) {
            throw new UserError(`subject ${subject} ${split}: ${images.count} images for ${fmri.rows} fMRI rows`, `dataset '${ref.id}'`);
          }
        }
        return {
          data,
          dropped,
          droppedRows,
          sourceVoxels: loaded.train.fmri.cols,
          keptVoxels,
          trainImages,
          testImages,
          trainCaptions: await data.train.stimuli.captions?.(),
          testCaptions: await data.test.stimuli.captions?.(),
        };
      })();
      this.subjects.set(key, prepared);
    }
    return prepared;
  }

  private prepareGenerator(pipeline: PipelineSpec, subject: string, prepared: PreparedSubject): Promise<PreparedGenerator> {
    const key = generatorKey(pipeline, subject);
    let entry = this.generators.get(key);
    if (!entry) {
      entry = (async () => {
        const { instance, provenance } = await this.core.registry.create('generator', pipeline.generator.id, pipeline.generator.options);
        const { data } = prepared;
        const source = (split: string) => `dataset '${pipeline.dataset.id}' (${subject}, ${split})`;
        const train = { ids: data.train.stimuli.ids, images: prepared.trainImages, captions: prepared.trainCaptions, source: source('train') };
        const fitted = await instance.fit(train, { seed: pipeline.seed, signal: this.options.signal });
        // Generators differing only in generation options (stage1Noise) encode the same targets: encode them once.
        const targetOptions = this.core.registry.factory('generator', pipeline.generator.id).targetOptions?.(provenance.options) ?? provenance.options;
        const targetsKey = `${subjectKey(pipeline.dataset, subject)}|${JSON.stringify([pipeline.generator.id, targetOptions])}|${pipeline.seed}`;
        let targets = this.targets.get(targetsKey);
        if (!targets) {
          targets = (async () => ({
            trainTargets: await this.encodeTrain(fitted, train, `${pipeline.name} (${subject})`),
            testTargets: await fitted.encode({ ids: data.test.stimuli.ids, images: prepared.testImages, captions: prepared.testCaptions, source: source('test') }),
          }))();
          this.targets.set(targetsKey, targets);
        }
        return { fitted, ...(await targets), targetOptions, provenance };
      })();
      this.generators.set(key, entry);
    }
    return entry;
  }

  private get blockColumns(): number {
    return this.core.config.targetBlockColumns ?? DEFAULT_TARGET_BLOCK_COLUMNS;
  }

  /**
   * The training targets of every space. Spaces wider than a block are encoded in chunks of rows and written to disk
   * as column blocks as they come (CLIP-vision's 7 GB at NSD size never in memory), checked finite chunk by chunk.
   */
  private async encodeTrain(fitted: FittedGenerator, train: StimulusBatch, where: string): Promise<Record<string, ColumnBlocks>> {
    const spaces = fitted.targets();
    const wide = spaces.filter((s) => s.dims > this.blockColumns);
    if (wide.length === 0) {
      const whole = await fitted.encode(train);
      return Object.fromEntries(Object.entries(whole).map(([name, m]) => [name, singleBlock(m)]));
    }
    const rows = train.ids.length;
    const dir = await this.core.cache.scratchDir('targets');
    this.scratch.push(dir);
    const writers = new Map<string, ColumnBlockWriter>();
    const narrow = new Map<string, Float32Array>();
    for (const [s, space] of spaces.entries()) {
      if (space.dims > this.blockColumns) writers.set(space.name, await ColumnBlockWriter.create(join(dir, String(s)), rows, space.dims, this.blockColumns));
      else narrow.set(space.name, new Float32Array(rows * space.dims));
    }
    const step = encodeChunkRows(spaces, this.blockColumns);
    for (let start = 0; start < rows; start += step) {
      this.options.signal?.throwIfAborted();
      const end = Math.min(rows, start + step);
      const chunk = await fitted.encode(sliceStimuli(train, start, end));
      for (const space of spaces) {
        const m = chunk[space.name];
        if (!m || m.rows !== end - start || m.cols !== space.dims) {
          const got = m ? `${m.rows} × ${m.cols}` : 'nothing';
          throw new UserError(`encode gave ${got} for space '${space.name}' (expected ${end - start} × ${space.dims})`, where);
        }
        checkFinite(m, `training targets of '${space.name}' (rows ${start}..${end - 1})`, where);
        const writer = writers.get(space.name);
        if (writer) await writer.append(m);
        else narrow.get(space.name)!.set(m.data, start * space.dims);
      }
    }
    const out: Record<string, ColumnBlocks> = {};
    for (const space of spaces) {
      const writer = writers.get(space.name);
      out[space.name] = writer ? writer.finish() : singleBlock({ rows, cols: space.dims, data: narrow.get(space.name)! });
    }
    return out;
  }

  private metric(ref: PluginRef) {
    const key = refKey(ref);
    const found = this.metrics.get(key);
    if (found) return Promise.resolve(found);
    return this.core.registry.create('metric', ref.id, ref.options).then(({ instance, provenance }) => {
      const entry = { metric: instance, provenance };
      this.metrics.set(key, entry);
      return entry;
    });
  }

  private async runPipeline(pipeline: PipelineSpec, subject: string, rows: MetricRow[]): Promise<PipelineOutcome> {
    const started = performance.now();
    const say = (m: string) => this.say(pipeline.name, subject, m);
    const { registry } = this.core;
    const { provenance: datasetProvenance } = await this.dataset(pipeline.dataset);
    // One line per stage, so that a log shows where a run is (steps shared with an earlier pipeline say nothing).
    if (!this.subjects.has(subjectKey(pipeline.dataset, subject))) say(`loading ${pipeline.dataset.id} data`);
    const prepared = await this.prepareSubject(pipeline.dataset, subject);
    const { data } = prepared;
    checkMapperRois(pipeline, data.atlas);
    if (!this.generators.has(generatorKey(pipeline, subject))) {
      say(`fitting generator ${pipeline.generator.id} on ${data.train.fmri.rows} training images`);
    }
    const generator = await this.prepareGenerator(pipeline, subject, prepared);
    const spaces = generator.fitted.targets();
    checkFittedSpaces(pipeline, spaces, this.core.registry.factory('generator', pipeline.generator.id).targetSpaces?.(generator.provenance.options));
    const provenance: Provenance[] = [datasetProvenance, generator.provenance];
    const mapperOutcomes: MapperOutcome[] = [];
    const predicted: Record<string, Matrix> = {};
    const where = `${pipeline.name} (${subject})`;
    for (const split of ['train', 'test'] as const) {
      const ids = prepared.droppedRows[split];
      if (ids.length === 0) continue;
      const shown = ids.slice(0, 10).join(', ') + (ids.length > 10 ? ', …' : '');
      say(`${ids.length} ${split} rows dropped (more than half of their voxels non-finite${split === 'test' ? '; missing from every metric' : ''}): ${shown}`);
    }

    for (const space of spaces) {
      const mapperKey = Object.hasOwn(pipeline.mappers, space.name) ? space.name : '*';
      const ref = pipeline.mappers[mapperKey];
      if (!ref) throw new Error(`internal: no mapper for '${space.name}' after checkMapperSpaces`);
      const t0 = performance.now();
      // A ROI restriction: the mapper is fitted and predicts on those columns only, with the atlas re-indexed to them.
      const rois = selectRois(pipeline, mapperKey, data.atlas);
      const X = rois ? takeColumns(data.train.fmri, rois.columns) : data.train.fmri;
      const testX = rois ? takeColumns(data.test.fmri, rois.columns) : data.test.fmri;
      const Y = generator.trainTargets[space.name];
      if (!Y) throw new Error(`internal: generator '${pipeline.generator.id}' did not encode space '${space.name}'`);
      const fitWhere = `${where}, mapper '${ref.id}' → ${space.name}`;
      checkFitInputs(X, Y.ranges.length === 1 ? await Y.read(0) : { rows: Y.rows }, fitWhere);
      checkFinite(data.test.fmri, 'test fMRI', where);
      const options = registry.resolveOptions('mapper', ref.id, ref.options);
      const mapperProvenance = registry.provenance('mapper', ref.id, options);
      provenance.push(mapperProvenance);
      const factory = registry.factory('mapper', ref.id);
      const description = {
        dataset: { id: pipeline.dataset.id, options: datasetProvenance.options, version: datasetProvenance.version, code: datasetProvenance.code },
        subject,
        preprocessing: PREPROCESSING_ID,
        generator: { id: pipeline.generator.id, options: generator.targetOptions, version: generator.provenance.version, code: generator.provenance.code },
        space: space.name,
        mapper: { id: ref.id, options, version: mapperProvenance.version, plugin: mapperProvenance.plugin, code: mapperProvenance.code },
        seed: pipeline.seed,
        package: PACKAGE_VERSION,
        ...(rois ? { rois: rois.rois } : {}),
      };
      const services = this.core.container.get<PluginServices>(TOKENS.Services);
      const cache = this.core.cache.forProducer(cacheProducer(mapperProvenance));
      // Created up front only when the targets are blocks (whether it can take them decides the path and the key).
      const create = async () => (await registry.create('mapper', ref.id, options)).instance;
      const blocked = Y.ranges.length > 1 ? await create() : undefined;
      const context = { seed: pipeline.seed, signal: this.options.signal, atlas: rois ? rois.atlas : data.atlas };
      const fitting = () => say(`fitting ${ref.id} → ${space.name} (${X.rows} × ${X.cols} → ${Y.cols})`);
      const blockwise = blocked?.fitColumns !== undefined;
      // The block width is part of the keys: blocks may round differently from one whole fit.
      const key = blockwise ? { ...description, columnBlocks: this.blockColumns } : description;
      let madeWhileFitting: Matrix | undefined;
      const fit = blockwise
        ? await cache.getOrFill<FittedMapper>(
            'mappers',
            key,
            { read: (dir) => factory.load(dir, services) },
            async (dir) => {
              fitting();
              say(`${space.name}: ${Y.ranges.length} column blocks of ${this.blockColumns} streamed from disk`);
              madeWhileFitting = await (blocked as Required<Mapper>).fitColumns(X, Y, context, { dir, predict: testX });
            },
          )
        : await cache.getOrBuild<FittedMapper>(
            'mappers',
            key,
            { read: (dir) => factory.load(dir, services), write: (dir, fitted) => fitted.save(dir) },
            async () => {
              fitting();
              return (blocked ?? (await create())).fit(X, await wholeMatrix(Y), context);
            },
          );
      const prediction = await cache.getOrBuild<Matrix>(
        'predictions',
        { ...key, stage: 'predict-test' },
        { read: (dir) => readMatrix(join(dir, 'prediction.npy')), write: (dir, m) => writeMatrix(join(dir, 'prediction.npy'), m) },
        async () => madeWhileFitting ?? fit.value.predict(testX),
      );
      checkFinite(prediction.value, `predictions of mapper '${ref.id}' for ${space.name}`, where);
      predicted[space.name] = prediction.value;
      const s = seconds(t0);
      say(
        `${ref.id} → ${space.name}: ${fit.outcome === 'hit' ? 're-used fitted model from cache' : 'fitted'}, ` +
          `${prediction.outcome === 'hit' ? 're-used predictions from cache' : 'predicted'} (${s.toFixed(1)} s)`,
      );
      // The dataset's original columns this mapper saw: preprocessing's kept voxels, then the ROI restriction.
      const columns = rois ? Int32Array.from(rois.columns, (c) => prepared.keptVoxels[c]!) : prepared.keptVoxels;
      const model: FittedMapperRecord = {
        key: fit.key,
        options,
        plugin: mapperProvenance.plugin,
        version: mapperProvenance.version,
        ...(mapperProvenance.code ? { code: mapperProvenance.code } : {}),
        dims: space.dims,
        voxels: { of: prepared.sourceVoxels, ranges: toRanges(columns), ...(rois ? { rois: rois.rois } : {}) },
      };
      mapperOutcomes.push({ space: space.name, mapper: ref.id, fit: fit.outcome, predict: prediction.outcome, seconds: s, summary: fit.value.summary, model });
    }

    // --limit: the first N test items only, for images and every metric (so that per-item values pair up).
    const total = data.test.fmri.rows;
    const n = this.options.limit === undefined ? total : Math.min(this.options.limit, total);
    const first = n < total ? Array.from({ length: n }, (_, i) => i) : undefined;
    const limitRows = (m: Matrix) => (first ? takeRows(m, first) : m);
    const testIds = data.test.stimuli.ids.slice(0, n);
    const truthImages = first ? takeImages(prepared.testImages, first) : prepared.testImages;
    const modelTargets = Object.fromEntries(Object.entries(predicted).map(([name, m]) => [name, limitRows(m)]));
    const truthTargets = Object.fromEntries(Object.entries(generator.testTargets).map(([name, m]) => [name, limitRows(m)]));
    if (first) say(`--limit ${n}: generating and scoring the first ${n} of ${total} test items`);

    const generatorOptions = generator.provenance.options;
    const generate = async (targets: Record<string, Matrix>, context: GenerateContext): Promise<Generation> =>
      checkGeneration(asGeneration(await generator.fitted.generate(targets, context)), context.ids.length, pipeline.generator.id);
    const model = await generate(modelTargets, { ids: testIds, seed: pipeline.seed, role: 'model', signal: this.options.signal });

    // The trivial floor: every row the mean training target; for a costly generator, on a seeded subset of items.
    const costly = registry.factory('generator', pipeline.generator.id).costly?.(generatorOptions) ?? false;
    const trivialIndex = trivialSubset(pipeline, n, costly);
    const trivialCount = trivialIndex?.length ?? n;
    if (trivialIndex) say(`trivial predictor: images for ${trivialCount} seeded test items of ${n} (trivialItems)`);
    const trivialTargets: Record<string, Matrix> = {};
    for (const [name, blocks] of Object.entries(generator.trainTargets)) trivialTargets[name] = await meanRows(blocks, n);
    const trivialGenerated = await generate(
      trivialIndex ? Object.fromEntries(Object.entries(trivialTargets).map(([name, m]) => [name, takeRows(m, trivialIndex)])) : trivialTargets,
      { ids: trivialIndex ? Array.from(trivialIndex, (i) => testIds[i]!) : testIds, seed: pipeline.seed, role: 'trivial', signal: this.options.signal },
    );
    const trivialTruth = trivialIndex ? takeImages(truthImages, trivialIndex) : truthImages;
    // Image targets: the final images, then each intermediate stage (rows `stage 1`, …).
    const imageTargets: Array<{ target: string; model: ImageBatch[]; trivial: ImageBatch[] }> = [
      { target: 'image', model: model.samples, trivial: trivialGenerated.samples },
      ...Object.entries(model.stages ?? {}).map(([label, images]) => {
        const trivial = trivialGenerated.stages?.[label];
        if (!trivial) throw new UserError(`generate returned stage '${label}' for the predictions but not for the trivial predictor`, `generator '${pipeline.generator.id}'`);
        return { target: label, model: [images], trivial: [trivial] };
      }),
    ];
    const scoring = model.scoring ?? 'first';

    const perItem: Record<string, number[]> = {};
    say(`scoring ${pipeline.metrics.length} metrics (and the trivial floor) on ${n} test items`);
    for (const ref of pipeline.metrics) {
      const { metric, provenance: metricProvenance } = await this.metric(ref);
      provenance.push(metricProvenance);
      const context = { seed: pipeline.seed };
      const scored: Array<{ target: string; result: MetricResult; trivial: MetricResult; trivialItems?: number }> = [];
      if (metric.appliesTo.includes('latent')) {
        for (const space of spaces) {
          const truth = truthTargets[space.name]!;
          const latent = (pred: Matrix): MetricInput => ({ kind: 'latent', space: space.name, pred, truth });
          scored.push({
            target: space.name,
            result: await metric.compute(latent(modelTargets[space.name]!), context),
            trivial: await metric.compute(latent(trivialTargets[space.name]!), context),
          });
        }
      }
      if (metric.appliesTo.includes('image')) {
        for (const images of imageTargets) {
          const score = (samples: ImageBatch[], truth: ImageBatch) =>
            scoreSamples(metric, scoring === 'mean' ? samples : samples.slice(0, 1), truth, context);
          scored.push({
            target: images.target,
            result: await score(images.model, truthImages),
            trivial: await score(images.trivial, trivialTruth),
            ...(trivialIndex ? { trivialItems: trivialCount } : {}),
          });
        }
      }
      for (const { target, result, trivial, trivialItems } of scored) {
        perItem[`${target}/${ref.id}`] = Array.from(result.perItem);
        const row = this.row(pipeline.name, subject, target, ref.id, metric.direction, result, trivial, pipeline.seed);
        rows.push({ ...row, ...(trivialItems === undefined ? {} : { trivialItems }), ...(first ? { limited: { items: n, of: total } } : {}) });
      }
    }
    const reconstructions = model.samples[0]!;
    const models = await this.modelsUsed(pipeline);

    return {
      pipeline: pipeline.name,
      subject,
      provenance,
      mappers: mapperOutcomes,
      voxels: data.train.fmri.cols,
      droppedVoxels: prepared.dropped,
      droppedRows: prepared.droppedRows,
      trainItems: data.train.fmri.rows,
      testItems: data.test.fmri.rows,
      seconds: seconds(started),
      perItem,
      testIds,
      ...(first ? { limited: { items: n, of: total } } : {}),
      reconstructions,
      ...(model.stages ? { stages: model.stages } : {}),
      truth: truthImages,
      models,
    };
  }

  /** The model folders this pipeline's plugins declare, digested (files hashed once per store; validate() read them). */
  private async modelsUsed(pipeline: PipelineSpec): Promise<ModelUse[]> {
    const { registry } = this.core;
    const store = this.core.container.get<ModelStore>(TOKENS.Models);
    const refs: Array<[PluginKind, PluginRef]> = [
      ['generator', pipeline.generator],
      ...Object.values(pipeline.mappers).map((m): [PluginKind, PluginRef] => ['mapper', m]),
      ...pipeline.metrics.map((m): [PluginKind, PluginRef] => ['metric', m]),
    ];
    const used: ModelUse[] = [];
    const seen = new Set<string>();
    for (const [kind, ref] of refs) {
      const needs = registry.factory(kind, ref.id).models?.(registry.resolveOptions(kind, ref.id, ref.options)) ?? [];
      for (const requirement of needs) {
        const folder = await store.folder(requirement.model, `${kind} '${ref.id}' in ${pipeline.name}`, requirement.produce);
        const key = JSON.stringify([kind, ref.id, requirement.role, folder.dir]);
        if (seen.has(key)) continue;
        seen.add(key);
        used.push({ kind, plugin: ref.id, role: requirement.role, name: folder.name, path: folder.dir, layout: folder.layout, digest: await store.folderDigest(folder) });
      }
    }
    return used;
  }

  private row(
    pipeline: string,
    subject: string,
    target: string,
    metric: string,
    direction: 'higher' | 'lower',
    result: MetricResult,
    trivial: MetricResult,
    seed: number,
  ): MetricRow {
    const undefinedItems = result.perItem.filter((v) => !Number.isFinite(v)).length;
    const base = { pipeline, subject, target, metric, ...(result.note ? { note: result.note } : {}), direction, items: result.perItem.length };
    const trivialValue = Number.isFinite(trivial.value) ? trivial.value : null;
    if (undefinedItems > 0 || !Number.isFinite(result.value)) {
      const problem = result.problem ?? `undefined for ${undefinedItems} of ${result.perItem.length} items`;
      this.say(pipeline, subject, `warning: ${metric} on ${target}: ${problem}; reported as n/a`);
      return { ...base, value: null, low: null, high: null, trivial: trivialValue, problem };
    }
    // A set-level metric brings its own interval, or none (then no bounds rather than a bootstrap of nothing).
    const ci = result.interval ?? (result.perItem.length > 0 ? bootstrapMeanInterval(result.perItem, { seed }) : { low: null, high: null });
    return { ...base, value: result.value, low: ci.low, high: ci.high, trivial: trivialValue };
  }
}
