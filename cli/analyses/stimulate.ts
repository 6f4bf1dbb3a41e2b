/**
 * `analyze roi --stimulate <gain>`: Mind Reader's ROI microstimulation. For each ROI, that ROI's raw test-fMRI
 * columns are multiplied by the gain and the all-voxels pipeline's mappers predict again; the pipeline's generator
 * turns the stimulated predictions into images with the run's seed and test ids (so the noise of every item is the
 * run's), and the images are compared with the unstimulated reconstructions and scored against the ground truth.
 * The mappers are the ones the run fitted on unmodified training data, loaded from their cache entries (as `export`
 * finds them): no refit, since core keys a fit on the dataset's options, and a stimulated dataset would change that
 * key for identical training data.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { asGeneration, type FittedGenerator, type FittedMapper, type Generation, type Metric, type PluginKind } from '../../core/contracts.js';
import type { Core } from '../../core/core.js';
import { UserError } from '../../core/errors.js';
import { mapperInput } from '../../core/exported-model.js';
import type { PipelineSpec, PluginRef } from '../../core/pipeline.js';
import { dropUnusableVoxels } from '../../core/preprocess.js';
import { checkGeneration, scoreSamples, type MapperOutcome } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import { takeImages, takeRows, type ImageBatch, type Matrix } from '../../core/tensor.js';
import { TOKENS } from '../../core/tokens.js';

/** How far one space's predicted latents move when one ROI is stimulated. */
export interface StimulationPoint {
  series: string;
  subject: string;
  roi: string;
  space: string;
  gain: number;
  /** Mean over test items of ‖p_stimulated − p‖ / ‖p‖ (0 where ‖p‖ = 0 and nothing moved). */
  change: number;
  items: number;
}

/** One image metric on the unstimulated and the stimulated reconstructions (null: undefined on that run). */
export interface StimulatedMetric {
  metric: string;
  direction: 'higher' | 'lower';
  unstimulated: number | null;
  stimulated: number | null;
  /** stimulated − unstimulated. */
  change: number | null;
}

/** How far one ROI's stimulation moves the reconstructions, and what it does to the pipeline's image metrics. */
export interface ImageStimulation {
  series: string;
  subject: string;
  roi: string;
  gain: number;
  items: number;
  /** Mean over items of 1 − PixCorr(stimulated image, unstimulated image) (0 for identical images). */
  pixcorrDistance: number;
  /** Mean over items of the RMS pixel difference (pixel values in 0..1): defined for flat images too. */
  rms: number;
  metrics: StimulatedMetric[];
}

export interface StimulationResult {
  latents: StimulationPoint[];
  images: ImageStimulation[];
}

/** Mean per-row relative L2 distance of `moved` from `base`. */
export function meanRelativeChange(base: Matrix, moved: Matrix): number {
  let sum = 0;
  for (let r = 0; r < base.rows; r++) {
    let d = 0;
    let n = 0;
    for (let k = r * base.cols; k < (r + 1) * base.cols; k++) {
      d += (moved.data[k]! - base.data[k]!) ** 2;
      n += base.data[k]! ** 2;
    }
    sum += n > 0 ? Math.sqrt(d / n) : d > 0 ? Infinity : 0;
  }
  return sum / base.rows;
}

/**
 * Per item: 1 − the Pearson correlation of all pixel values (PixCorr, Brain-Diffuser's low-level metric, as a
 * distance between two reconstructions) and the RMS difference. Identical images are 0 exactly (not 1 − a
 * correlation rounded below 1); a flat image against a different one has no correlation: distance 1.
 */
export function imageDistances(base: ImageBatch, moved: ImageBatch): { pixcorr: Float64Array; rms: Float64Array } {
  const size = base.height * base.width * base.channels;
  const pixcorr = new Float64Array(base.count);
  const rms = new Float64Array(base.count);
  for (let i = 0; i < base.count; i++) {
    const a = base.data.subarray(i * size, (i + 1) * size);
    const b = moved.data.subarray(i * size, (i + 1) * size);
    if (a.every((v, k) => v === b[k])) continue;
    let ma = 0;
    let mb = 0;
    for (let k = 0; k < size; k++) {
      ma += a[k]!;
      mb += b[k]!;
    }
    ma /= size;
    mb /= size;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    let sq = 0;
    for (let k = 0; k < size; k++) {
      const da = a[k]! - ma;
      const db = b[k]! - mb;
      sab += da * db;
      saa += da * da;
      sbb += db * db;
      sq += (a[k]! - b[k]!) ** 2;
    }
    pixcorr[i] = saa > 0 && sbb > 0 ? 1 - sab / Math.sqrt(saa * sbb) : 1;
    rms[i] = Math.sqrt(sq / size);
  }
  return { pixcorr, rms };
}

const mean = (values: Float64Array) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);

/** A copy of `fmri` with `columns` multiplied by `gain`. */
function scaled(fmri: Matrix, columns: ArrayLike<number>, gain: number): Matrix {
  const data = Float32Array.from(fmri.data);
  for (let r = 0; r < fmri.rows; r++) for (const c of Array.from(columns)) data[r * fmri.cols + c]! *= gain;
  return { ...fmri, data };
}

/** The raw rows of the given ids: the run's test items (after its dropped rows), in its order. */
function rowsOf(fmri: Matrix, allIds: readonly string[], ids: readonly string[], where: string): Matrix {
  const index = new Map(allIds.map((id, i) => [id, i]));
  return takeRows(
    fmri,
    ids.map((id) => {
      const i = index.get(id);
      if (i === undefined) throw new Error(`internal: the run's test item '${id}' is not in ${where}`);
      return i;
    }),
  );
}

export interface StimulationRun {
  core: Core;
  cacheDir: string | null;
  gain: number;
  rois: readonly string[];
  /** The all-voxels outcomes (one per subject and dataset) with their pipeline (as run) and series. */
  outcomes: Array<{ series: string; subject: string; pipeline: PipelineSpec; testIds: string[]; mappers: MapperOutcome[] }>;
}

export async function stimulate(run: StimulationRun): Promise<StimulationResult> {
  if (run.cacheDir === null) throw new UserError('stimulation re-uses the fitted mappers from the cache: run without --no-cache', '--stimulate');
  const { registry } = run.core;
  const services = run.core.container.get<PluginServices>(TOKENS.Services);
  // Relative path options of the file's refs resolve against its folder, as the runner resolves them.
  const options = (kind: PluginKind, ref: PluginRef) => (ref.baseDir === undefined ? ref.options : registry.resolvePaths(kind, ref.id, ref.options, ref.baseDir));
  const latents: StimulationPoint[] = [];
  const images: ImageStimulation[] = [];
  for (const o of run.outcomes) {
    const { pipeline } = o;
    const { instance: dataset } = await registry.create('dataset', pipeline.dataset.id, options('dataset', pipeline.dataset));
    const loaded = await dataset.load(o.subject);
    // The data as the runner prepared it: its training stimuli fit the generator, its test images are the truth.
    const { data } = dropUnusableVoxels(loaded);
    const source = (split: string) => `dataset '${pipeline.dataset.id}' (${o.subject}, ${split})`;
    // Every test row the runner predicted (it predicts them all, then keeps --limit's first n): a product of other
    // shapes may round differently, and gain 1 must reproduce the run's predictions exactly.
    const fmri = rowsOf(loaded.test.fmri, loaded.test.stimuli.ids, data.test.stimuli.ids, source('test'));
    const n = o.testIds.length;
    if (data.test.stimuli.ids.slice(0, n).join('\u0000') !== o.testIds.join('\u0000')) throw new Error(`internal: the test items of ${source('test')} are not the run's`);
    const first = n < fmri.rows ? Array.from({ length: n }, (_, i) => i) : undefined;

    const mappers: Array<{ outcome: MapperOutcome; fitted: FittedMapper }> = [];
    for (const m of o.mappers) {
      const entry = join(run.cacheDir, 'mappers', m.model.key);
      if (!existsSync(join(entry, 'sealed.json'))) throw new Error(`internal: the fit of ${m.mapper} → ${m.space} is not in the cache (${entry})`);
      mappers.push({ outcome: m, fitted: await registry.factory('mapper', m.mapper).load(entry, services) });
    }
    // Every space's prediction of the run's n items from raw fMRI rows (mapperInput takes each mapper's own columns
    // and checks them finite).
    const predict = async (input: Matrix) => {
      const out: Record<string, Matrix> = {};
      for (const m of mappers) {
        const all = await m.fitted.predict(mapperInput(input, m.outcome.model.voxels, source('test')));
        out[m.outcome.space] = first ? takeRows(all, first) : all;
      }
      return out;
    };

    // The generator fitted as the runner fits it (the same training stimuli and seed): generation is seeded per
    // (seed, item id, sample), so the same predictions give the run's images exactly.
    const { instance: generator } = await registry.create('generator', pipeline.generator.id, options('generator', pipeline.generator));
    const train = {
      ids: data.train.stimuli.ids,
      images: await data.train.stimuli.images(),
      captions: await data.train.stimuli.captions?.(),
      source: source('train'),
    };
    const fitted: FittedGenerator = await generator.fit(train, { seed: pipeline.seed });
    const generate = async (targets: Record<string, Matrix>): Promise<Generation> =>
      checkGeneration(asGeneration(await fitted.generate(targets, { ids: o.testIds, seed: pipeline.seed, role: 'model' })), n, pipeline.generator.id);
    const allTruth = await data.test.stimuli.images();
    const truth = first ? takeImages(allTruth, first) : allTruth;
    const metrics: Array<{ id: string; metric: Metric }> = [];
    for (const ref of pipeline.metrics) {
      const { instance } = await registry.create('metric', ref.id, options('metric', ref));
      if (instance.appliesTo.includes('image')) metrics.push({ id: ref.id, metric: instance });
    }
    // The image metrics as the runner scores them: samples[0], or every sample's mean when the generator says so.
    const score = async (generation: Generation) => {
      const samples = generation.scoring === 'mean' ? generation.samples : generation.samples.slice(0, 1);
      const values = new Map<string, number | null>();
      for (const { id, metric } of metrics) {
        const { value } = await scoreSamples(metric, samples, truth, { seed: pipeline.seed });
        values.set(id, Number.isFinite(value) ? value : null);
      }
      return values;
    };

    const base = await predict(fmri);
    const baseImages = await generate(base);
    const baseScores = await score(baseImages);
    for (const roi of run.rois) {
      const moved = await predict(scaled(fmri, loaded.atlas[roi] ?? [], run.gain));
      for (const m of mappers) {
        const space = m.outcome.space;
        latents.push({ series: o.series, subject: o.subject, roi, space, gain: run.gain, change: meanRelativeChange(base[space]!, moved[space]!), items: n });
      }
      const movedImages = await generate(moved);
      const distances = imageDistances(baseImages.samples[0]!, movedImages.samples[0]!);
      const movedScores = await score(movedImages);
      images.push({
        series: o.series,
        subject: o.subject,
        roi,
        gain: run.gain,
        items: n,
        pixcorrDistance: mean(distances.pixcorr),
        rms: mean(distances.rms),
        metrics: metrics.map(({ id, metric }) => {
          const [before, after] = [baseScores.get(id)!, movedScores.get(id)!];
          return { metric: id, direction: metric.direction, unstimulated: before, stimulated: after, change: before === null || after === null ? null : after - before };
        }),
      });
    }
  }
  return { latents, images };
}
