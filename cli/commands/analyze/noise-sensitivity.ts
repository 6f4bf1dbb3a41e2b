import { Flags } from '@oclif/core';
import { readSpecFile } from '../../../core/pipeline.js';
import { AnalysisCommand, analysisFlags, fileArg, publishedFile } from '../../analyses/command.js';
import { amplitudeChart, analysisSection } from '../../analyses/sections.js';
import { DEFAULT_AMPLITUDES, noiseSpec, parseAmplitudes } from '../../analyses/variants.js';

const DEFAULT_FILE = 'cli/experiments/brain-diffuser.json';

export default class NoiseSensitivity extends AnalysisCommand<typeof NoiseSensitivity> {
  static override summary = "Seed 000 §3.4: a Brain-Diffuser pipeline once per stage-1 noise amplitude, every metric per amplitude";
  static override examples = [
    '<%= config.bin %> analyze noise-sensitivity',
    '<%= config.bin %> analyze noise-sensitivity my-brain-diffuser.json --amplitude 16 --amplitude 64 --amplitude none',
  ];
  static override args = fileArg(DEFAULT_FILE);
  static override flags = {
    amplitude: Flags.string({
      description: "N(0, 1) × amplitude on the 0–255 VDVAE image before Versatile Diffusion; 'none': without noise; repeatable",
      multiple: true,
      multipleNonGreedy: true,
      default: DEFAULT_AMPLITUDES,
    }),
    ...analysisFlags,
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(NoiseSensitivity);
    const variants = parseAmplitudes(this.flags.amplitude);
    const file = args.file ?? (await publishedFile('brain-diffuser.json'));
    const spec = noiseSpec(await readSpecFile(file), args.file ?? DEFAULT_FILE, variants);
    return this.runAnalysis(spec, variants, this.flags, (points) =>
      analysisSection(
        {
          id: 'noise-sensitivity',
          title: 'Stage-1 noise sensitivity',
          text: [
            'The same pipeline once per amplitude a: N(0, 1)·a added to the 0–255 VDVAE (stage 1) image, clipped, before Versatile Diffusion ' +
              '(seed 000 §3.4, Table 6). Stage 1 is scored before the noise, so its rows are the same for every amplitude.',
            'The chart: each metric of the final image against the amplitude (log scale); the dashed red rule is the run without noise.',
          ],
          variantHead: 'stage-1 noise',
        },
        points,
        (p, target) => amplitudeChart(p, target, `'${target}': score per stage-1 noise amplitude; dashed rule: no noise`),
        (target) => target === 'image',
      ),
    );
  }
}
