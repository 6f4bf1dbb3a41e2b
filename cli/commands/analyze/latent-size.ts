import { Flags } from '@oclif/core';
import { readSpecFile } from '../../../core/pipeline.js';
import { AnalysisCommand, analysisFlags, fileArg, publishedFile } from '../../analyses/command.js';
import { analysisSection, groupedBarChart } from '../../analyses/sections.js';
import { DEFAULT_LAYERS, latentSizeSpec } from '../../analyses/variants.js';

const DEFAULT_FILE = 'cli/experiments/gru-two-stage.json';

export default class LatentSize extends AnalysisCommand<typeof LatentSize> {
  static override summary = "Seed 000: VDVAE latents of 15 and of 31 layers with the same mappers, every metric per size";
  static override examples = ['<%= config.bin %> analyze latent-size', '<%= config.bin %> analyze latent-size cli/experiments/brain-diffuser.json --layers 15 --layers 31'];
  static override args = fileArg(DEFAULT_FILE);
  static override flags = {
    layers: Flags.integer({ description: 'VDVAE layers whose latents are the vdvae target; repeatable', multiple: true, multipleNonGreedy: true, default: DEFAULT_LAYERS, min: 1 }),
    ...analysisFlags,
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(LatentSize);
    const file = args.file ?? (await publishedFile('gru-two-stage.json'));
    const { spec, variants } = latentSizeSpec(await readSpecFile(file), args.file ?? DEFAULT_FILE, this.flags.layers);
    return this.runAnalysis(spec, variants, this.flags, (points) =>
      analysisSection(
        {
          id: 'latent-size',
          title: 'VDVAE latent size',
          text: [
            'The same pipeline with the VDVAE target cut at each number of layers (seed 000: 15 layers, 13,344 latents, against ' +
              "Brain-Diffuser's 31, 91,168): the mappers and Versatile Diffusion are unchanged, so the difference is the latent size's.",
          ],
          variantHead: 'VDVAE',
        },
        points,
        (p, target) => groupedBarChart(p, target, `'${target}': score per VDVAE depth, 95% interval (line)`),
        (target) => target === 'image' || target === 'stage 1',
      ),
    );
  }
}
