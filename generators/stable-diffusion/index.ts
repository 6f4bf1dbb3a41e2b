/** The `stable-diffusion` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { sdRequirement, targetSpaceNames } from './requirement.js';
import { sdOptionsSchema, type SdOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-stable-diffusion',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "Stable Diffusion v1 img2img from predicted z and c (Takagi & Nishimoto's decoding; Hou & Khoshnoo's preset), on a diffusers/optimum ONNX export",
  provides: [
    {
      kind: 'generator',
      id: 'stable-diffusion',
      summary: "targets: z (VAE latent, 4×40×40 at 320) and c (CLIP text, 77×768); generate: decode z → re-encode at 512 → DDIM img2img on c (strength 0.8, 50 steps, guidance 5)",
      optionsSchema: sdOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('stable-diffusion', {
    targetSpaces: (options) => targetSpaceNames(options as unknown as SdOptions),
    models: (options) => [sdRequirement(options as unknown as SdOptions)],
    costly: () => true,
    async create(options, services) {
      const { StableDiffusionGenerator } = await import('./stable-diffusion.js');
      return new StableDiffusionGenerator(options as unknown as SdOptions, services);
    },
  });
}
