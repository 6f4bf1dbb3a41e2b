/** The `lafite` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { TARGET_SPACES, lafiteRequirements } from './requirement.js';
import { lafiteOptionsSchema, type LafiteOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-lafite',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "Mind Reader's generator (Lin, Sprague & Singh, NeurIPS 2022): a Lafite conditional StyleGAN2 on predicted CLIP ViT-B/32 image and text embeddings",
  provides: [
    {
      kind: 'generator',
      id: 'lafite',
      summary:
        'targets: clip-image and clip-text (CLIP ViT-B/32, 512 each; clamped at ±1.5 and L2-normalised as Mind Reader); generate: Lafite StyleGAN2 conditioned on both (structure 4), seeded z, ψ 1, const noise',
      optionsSchema: lafiteOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('lafite', {
    targetSpaces: () => [...TARGET_SPACES],
    models: (options) => lafiteRequirements(options as unknown as LafiteOptions),
    // One forward pass of a StyleGAN2 per image: the trivial floor can cover every test item.
    costly: () => false,
    async create(options, services) {
      const { LafiteGenerator } = await import('./lafite.js');
      return new LafiteGenerator(options as unknown as LafiteOptions, services);
    },
  });
}
