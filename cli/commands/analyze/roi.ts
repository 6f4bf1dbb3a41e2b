import { Args, Flags } from '@oclif/core';
import { UserError } from '../../../core/errors.js';
import { readSpecFile } from '../../../core/pipeline.js';
import type { PipelineOutcome } from '../../../core/runner.js';
import { AnalysisCommand, analysisFlags, publishedFile } from '../../analyses/command.js';
import { ALL_VOXELS, chooseRois, datasetRois, roiSection, roiSpec } from '../../analyses/roi.js';
import { stimulate, type StimulationResult } from '../../analyses/stimulate.js';
import { imageStimulationCharts, imageStimulationTable, stimulationTable } from '../../analyses/stimulation-section.js';

const DEFAULT_FILE = 'cli/experiments/brain-diffuser.json';

function parseGain(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const gain = Number(text);
  if (text.trim() === '' || !Number.isFinite(gain) || gain < 0) throw new UserError(`'${text}' is not a gain: give a number ≥ 0 (1 changes nothing)`, '--stimulate');
  return gain;
}

export default class Roi extends AnalysisCommand<typeof Roi> {
  static override summary = "Per-ROI decoding: the pipeline once per atlas ROI (every mapper on that ROI's voxels) and on all voxels";
  static override examples = [
    '<%= config.bin %> analyze roi',
    '<%= config.bin %> analyze roi my-pipeline.json --roi V1 --roi hV4',
    '<%= config.bin %> analyze roi my-pipeline.json --stimulate 2',
  ];
  static override args = { file: Args.string({ description: `a pipeline file of one pipeline, any generator (default: ${DEFAULT_FILE})`, required: false }) };
  static override flags = {
    roi: Flags.string({ description: "an ROI of the dataset's atlas (default: every ROI it has); repeatable", multiple: true, multipleNonGreedy: true }),
    stimulate: Flags.string({
      description:
        "also multiply each ROI's test fMRI by this gain and report how far the all-voxels mappers' predicted latents and the reconstructions move, and the image metrics' change",
    }),
    ...analysisFlags,
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(Roi);
    const gain = parseGain(this.flags.stimulate);
    const cacheDir = this.coreConfig().cacheDir;
    if (gain !== undefined && cacheDir === null) throw new UserError('stimulation re-uses the fitted mappers from the cache: run without --no-cache', '--stimulate');
    const file = args.file ?? (await publishedFile('brain-diffuser.json'));
    const parsed = await readSpecFile(file);
    // The ROI names come from the dataset the run will use (--dataset applied), before any long step.
    const { spec: withData } = this.withDatasetFlags(parsed, this.flags.dataset);
    const ref = withData.pipelines[0]?.dataset;
    if (!ref) throw new Error('internal: no pipeline');
    const core = await this.core();
    const { instance } = await core.registry.create('dataset', ref.id, ref.options);
    const rois = chooseRois(this.flags.roi, await datasetRois(instance), ref.id);
    const { spec, variants } = roiSpec(parsed, args.file ?? DEFAULT_FILE, rois);
    // The run's pipelines (--dataset repeats them per dataset, suffixing names): the all-voxels ones as run.
    const allVoxels = new Map(this.withDatasetFlags(spec, this.flags.dataset).spec.pipelines.filter((p) => p.name.startsWith(ALL_VOXELS)).map((p) => [p.name, p]));
    let stimulation: StimulationResult | undefined;
    const result = await this.runAnalysis(spec, variants, this.flags, async (points, spaces, { outcomes }) => {
      const section = roiSection(points, spaces);
      if (gain === undefined) return section;
      const mine = (outcomes as PipelineOutcome[]).flatMap((o) => {
        const pipeline = allVoxels.get(o.pipeline);
        return pipeline ? [{ series: o.pipeline.slice(ALL_VOXELS.length).trim(), subject: o.subject, pipeline, testIds: o.testIds, mappers: o.mappers }] : [];
      });
      this.info(`stimulating ${rois.length} ROIs × ${gain}: predicting and generating again with the run's fitted mappers`);
      stimulation = await stimulate({ core, cacheDir, gain, rois, outcomes: mine });
      return {
        ...section,
        tables: [...(section.tables ?? []), stimulationTable(stimulation.latents), imageStimulationTable(stimulation.images)],
        charts: [...(section.charts ?? []), ...imageStimulationCharts(stimulation.images)],
      };
    });
    // `stimulation`: the latents' change per ROI and space (as before); `stimulationImages`: the images' per ROI.
    return { ...result, ...(stimulation ? { stimulation: stimulation.latents, stimulationImages: stimulation.images } : {}) };
  }
}
