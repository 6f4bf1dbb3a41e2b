/**
 * The four plugin kinds and the values that flow between them. Plugins depend on this file (and on the
 * services they are handed), never on core singletons.
 */
import type { OnnxSignature } from './compute/onnx.js';
import type { ModelLayout } from './models/folder.js';
import type { ImageBatch, Matrix } from './tensor.js';
import type { PluginServices } from './services.js';

/** Major.minor of the plugin API. A plugin built for major M, minor m loads when M equals ours and m ≤ ours. */
export const PLUGIN_API_VERSION = '1.2';

export const PLUGIN_KINDS = ['dataset', 'mapper', 'generator', 'metric'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];
export type JsonSchema = Record<string, unknown>;
export type Options = Record<string, unknown>;

/** What a plugin contributes, declared in its manifest so that listing plugins loads no heavy code. */
export interface Contribution {
  kind: PluginKind;
  id: string;
  summary: string;
  /** JSON schema (draft-07) of the options object, with defaults. */
  optionsSchema: JsonSchema;
}

export interface PluginManifest {
  name: string;
  version: string;
  apiVersion: string;
  description?: string;
  provides: Contribution[];
}

/** What a plugin's `index.ts` exports (as named exports `manifest` and `register`, or as its default export). */
export interface PluginModule {
  manifest: PluginManifest;
  register(registrar: PluginRegistrar): void;
}

/** Handed to `register`: binds one factory per contribution declared in the manifest. */
export interface PluginRegistrar {
  dataset(id: string, factory: DatasetFactory): void;
  mapper(id: string, factory: MapperFactory): void;
  generator(id: string, factory: GeneratorFactory): void;
  metric(id: string, factory: MetricFactory): void;
  /** Every registered generator, looked up when called (not at register time): for compositions such as `two-stage`. */
  readonly generators: GeneratorCatalog;
}

/** Generators by id, for a plugin that composes others. */
export interface GeneratorCatalog {
  factory(id: string): GeneratorFactory;
  /** Options validated against that generator's schema, defaults filled in (errors name the generator and option). */
  resolveOptions(id: string, options: unknown): Options;
  /** A configured instance, created as the runner creates one (its own cache scope, its code digest in its keys). */
  create(id: string, options: unknown): Promise<Generator>;
}

/**
 * A pretrained network a contribution needs, declared so that a run checks it before its first long step (a
 * missing or mismatched model fails at start, not an hour in).
 */
export interface ModelRequirement {
  /** What the network is for, in messages: e.g. `AlexNet feature network`. */
  role: string;
  /** A configured model name or a folder path: usually the plugin's `model` option, else its default name. */
  model: string;
  /** The folder's layout (default `neurodecode`: model.json + *.onnx). */
  layout?: ModelLayout;
  /** Graph role → the inputs the plugin feeds and the outputs it fetches (null: the graph must only exist and open). */
  graphs: Record<string, OnnxSignature | null>;
  /** How a user makes the folder, e.g. `python3 metrics/alexnet/export.py --out <folder>`. */
  produce: string;
}

/** Factories receive options already validated against the schema, with its defaults filled in. */
export interface Factory<T> {
  create(options: Options, services: PluginServices): T | Promise<T>;
  /** The pretrained networks these options need (checked by the runner before any long step). */
  models?(options: Options): ModelRequirement[];
}

// ───────────────────────────── Dataset ─────────────────────────────

export interface SubjectSummary {
  subject: string;
  trainItems: number;
  testItems: number;
  voxels: number;
  rois: Record<string, number>;
}

export interface DatasetInfo {
  id: string;
  subjects: string[];
  imageShape: [height: number, width: number, channels: number];
  captions: boolean;
  summaries: SubjectSummary[];
  notes: string[];
  /**
   * Subjects whose files are present but cannot be used, each with the reason (an empty mask, a truncated file, a
   * missing column…): core reports that reason when a pipeline asks for such a subject.
   */
  unusable?: Record<string, string>;
}

/** The stimuli of one split, images loaded lazily (a real dataset's images are gigabytes). */
export interface Stimuli {
  ids: string[];
  images(): Promise<ImageBatch>;
  captions?(): Promise<string[][]>;
}

export interface SplitData {
  /** items × voxels; one row per item (repeats already averaged when the dataset does so). */
  fmri: Matrix;
  stimuli: Stimuli;
  /** How many trials went into each row. */
  repeats: Int32Array;
}

export interface SubjectData {
  subject: string;
  train: SplitData;
  test: SplitData;
  /** ROI name → voxel column indices into `fmri`. */
  atlas: Record<string, Int32Array>;
  /** Per-voxel noise ceiling (fraction of variance, 0..1) when the dataset knows it. */
  noiseCeiling?: Float32Array;
}

export interface Dataset {
  describe(): Promise<DatasetInfo>;
  load(subject: string): Promise<SubjectData>;
}
export type DatasetFactory = Factory<Dataset>;

// ───────────────────────────── Mapper ─────────────────────────────

export interface FitContext {
  seed: number;
  signal?: AbortSignal;
  /**
   * The dataset's ROI atlas, ROI name → column indices into the X handed to `fit` (after core dropped unusable
   * voxels). Given to mappers only; mappers that group voxels by region (e.g. a graph over ROIs) need it.
   */
  atlas?: Record<string, Int32Array>;
}

/** A fitted model: learned state only, immutable; predicts and saves itself. */
export interface FittedMapper {
  predict(X: Matrix): Promise<Matrix>;
  /** Writes everything needed by the factory's `load` into `dir` (which exists and is empty). */
  save(dir: string): Promise<void>;
  /** Small facts worth reporting (chosen alpha, epochs run, …). */
  readonly summary: Record<string, unknown>;
}

/**
 * A rows × cols target matrix handed over one column block at a time (API 1.2): a target space wider than a block
 * (CLIP-vision's 197,376 columns are 7 GB at NSD size) is streamed from disk rather than held whole.
 */
export interface ColumnBlocks {
  rows: number;
  cols: number;
  /** Column ranges [start, end) of the blocks, in order, covering 0..cols. */
  readonly ranges: ReadonlyArray<readonly [start: number, end: number]>;
  /** Block `b`: rows × (end − start), read anew on every call (the caller holds one block at a time). */
  read(block: number): Promise<Matrix>;
}

/** Options at construction, `fit` learns. X and Y were checked by core (same rows, finite). */
export interface Mapper {
  fit(X: Matrix, Y: Matrix, context: FitContext): Promise<FittedMapper>;
  /**
   * Optional (API 1.2), for mappers that can fit target columns a block at a time (ridge: every column's solution
   * shares X's kernel and factor and needs no other column): fits `Y` block by block and writes the fitted model into
   * `out.dir` (empty, existing) exactly as `save` would, so that the factory's `load` reads it back; the model must
   * be the one `fit` would give on the whole matrix. With `out.predict` (the test fMRI), it also returns the
   * predictions of those rows, made block by block while each block is in memory (what the saved model would
   * predict), so that the model's gigabytes are not read back to predict. The runner calls it for target spaces
   * wider than one block (config `targetBlockColumns`); mappers without it get whole matrices.
   */
  fitColumns?(X: Matrix, Y: ColumnBlocks, context: FitContext, out: { dir: string; predict?: Matrix }): Promise<Matrix | undefined>;
}

export interface MapperFactory extends Factory<Mapper> {
  load(dir: string, services: PluginServices): Promise<FittedMapper>;
}

// ───────────────────────────── Generator ─────────────────────────────

/** A latent space a generator needs predicted: e.g. `pixels` (12,288) or `pca` (256). */
export interface TargetSpace {
  name: string;
  dims: number;
}

export interface StimulusBatch {
  ids: string[];
  images: ImageBatch;
  captions?: string[][];
  /** Where the stimuli come from, for messages: e.g. `dataset 'nsd' (subj01, train)`. */
  source?: string;
}

/** What a generation is for and where its items come from: noise and per-item cache entries are keyed by it. */
export interface GenerateContext {
  /** One id per predicted row (test item ids): the noise of item i, sample s is a function of (seed, ids[i], s). */
  ids: string[];
  seed: number;
  /** `model` for a mapper's predictions, `trivial` for the mean-training-target floor (labels, cache keys). */
  role: 'model' | 'trivial';
  signal?: AbortSignal;
}

/** The images of one generation (API 1.1; a plain ImageBatch from a 1.0 plugin counts as one sample). */
export interface Generation {
  /** One batch per sample, rows in the order of the predictions. */
  samples: ImageBatch[];
  /**
   * How image metrics use the samples: `first` scores samples[0]; `mean` scores every sample and averages each
   * item's value over them (Takagi's identification, Hou & Khoshnoo's scores). Default `first`.
   */
  scoring?: 'first' | 'mean';
  /** Intermediate images scored too, by label (a two-stage generator's `stage 1`). */
  stages?: Record<string, ImageBatch>;
  /**
   * The images a following stage starts from, when they are not samples[0] (which is at the stimuli's size, for
   * scoring): e.g. VDVAE's 64² output upsampled to 512² as Brain-Diffuser hands it to Versatile Diffusion.
   */
  next?: ImageBatch;
}

/** A generator after seeing the training stimuli (PCA fits its eigen-images there; others ignore it). */
export interface FittedGenerator {
  targets(): TargetSpace[];
  encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>>;
  generate(predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation | ImageBatch>;
  /**
   * Image-to-image generators: start from given images (one per predicted row) instead of their own init; the
   * `two-stage` composition calls it with its first stage's images.
   */
  generateFrom?(init: ImageBatch, predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation | ImageBatch>;
}

export interface Generator {
  fit(train: StimulusBatch, context: FitContext): Promise<FittedGenerator>;
}
export interface GeneratorFactory extends Factory<Generator> {
  /**
   * Names of the target spaces a generator with these (validated) options produces, known without fitting it
   * (their dimensions may wait for fit): lets the runner refuse a `mappers` key that names no space before any
   * long step. Without it (or when it returns undefined), that check waits for the fitted generator's `targets()`.
   */
  targetSpaces?(options: Options): string[] | undefined;
  /**
   * True when one image costs a full network run (diffusion): the runner then generates the trivial predictor's
   * images for a seeded subset of test items only (the pipeline's `trivialItems`), and says so in the table.
   */
  costly?(options: Options): boolean;
  /**
   * Optional (API 1.2): the part of these options that decides the targets (fit and encode), without the options
   * that only change generation (two-stage's `stage1Noise`). Runs that differ only in generation options then share
   * the encoded targets and every fitted mapper (the mappers' cache keys hold these options, not all of them).
   */
  targetOptions?(options: Options): Options;
}

/** A plain ImageBatch (API 1.0 generators) is a generation of one sample. */
export function asGeneration(result: Generation | ImageBatch): Generation {
  return 'samples' in result ? result : { samples: [result] };
}

// ───────────────────────────── Metric ─────────────────────────────

export type MetricInput =
  | { kind: 'latent'; space: string; pred: Matrix; truth: Matrix }
  | { kind: 'image'; pred: ImageBatch; truth: ImageBatch };

export interface MetricResult {
  /** The aggregate as the metric's convention defines it (usually the mean of `perItem`). */
  value: number;
  /** One value per test item, for intervals and paired tests; empty for a set-level metric (e.g. FID). */
  perItem: Float64Array;
  /** The metric's own interval (a set-level metric has no per-item values to bootstrap the mean of). */
  interval?: { low: number; high: number; method: string };
  /** A few words qualifying this run of the metric, shown after its name: e.g. `150-way` for retrieval. */
  note?: string;
  /** Why the value is undefined (NaN) on this run, shown in the table cell's place (API 1.2). */
  problem?: string;
}

export interface Metric {
  readonly appliesTo: readonly ('latent' | 'image')[];
  readonly direction: 'higher' | 'lower';
  compute(input: MetricInput, context: { seed: number }): MetricResult | Promise<MetricResult>;
}
export type MetricFactory = Factory<Metric>;
