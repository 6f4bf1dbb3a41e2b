/**
 * The `brain-diffuser` generator plugin: Ozcelik & VanRullen's two stages, VDVAE → Versatile Diffusion, as the
 * `two-stage` composition with Brain-Diffuser's defaults (the stages' own defaults are the paper's).
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { brainDiffuserOptionsSchema, twoStageOptions, type BrainDiffuserOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-brain-diffuser',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Brain-Diffuser (Ozcelik & VanRullen 2023): VDVAE images as the init of dual-guided Versatile Diffusion; both stages scored',
  provides: [
    {
      kind: 'generator',
      id: 'brain-diffuser',
      summary: "targets: vdvae (31 layers, 91,168), clip-text (77×768), clip-vision (257×768); generate: VDVAE → 512² → Versatile Diffusion img2img (rows 'stage 1' score VDVAE)",
      optionsSchema: brainDiffuserOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  const { generators } = registrar;
  const composed = (options: Record<string, unknown>) => generators.resolveOptions('two-stage', twoStageOptions(options as unknown as BrainDiffuserOptions));
  registrar.generator('brain-diffuser', {
    targetSpaces: (options) => generators.factory('two-stage').targetSpaces?.(composed(options)),
    models: (options) => generators.factory('two-stage').models?.(composed(options)) ?? [],
    costly: (options) => generators.factory('two-stage').costly?.(composed(options)) ?? true,
    targetOptions: ({ stage1Noise: _noise, ...rest }) => rest,
    create: (options) => generators.create('two-stage', composed(options)),
  });
}
