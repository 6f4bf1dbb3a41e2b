/** The `versatile-diffusion` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { vdRequirement } from './requirement.js';
import { VD_SPACES, vdOptionsSchema, type VdOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-versatile-diffusion',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "Versatile Diffusion image-to-image guided by predicted CLIP vision and text embeddings (Brain-Diffuser's second stage), on a neurodecode export",
  provides: [
    {
      kind: 'generator',
      id: 'versatile-diffusion',
      summary:
        'targets: clip-vision (257×768) and clip-text (77×768); generate (second stage of two-stage): init image at 512 → DDIM img2img (strength 0.75, 50 steps, guidance 7.5), vision 0.6 / text 0.4 mixed at every cross-attention block',
      optionsSchema: vdOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('versatile-diffusion', {
    targetSpaces: () => [...VD_SPACES],
    models: (options) => [vdRequirement(options as unknown as VdOptions)],
    costly: () => true,
    async create(options, services) {
      const { VersatileDiffusionGenerator } = await import('./versatile-diffusion.js');
      return new VersatileDiffusionGenerator(options as unknown as VdOptions, services);
    },
  });
}
