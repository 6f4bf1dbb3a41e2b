/** The `vdvae` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { VDVAE_SPACE, vdvaeRequirement } from './requirement.js';
import { vdvaeOptionsSchema, type VdvaeOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-vdvae',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "VDVAE ImageNet-64 (Brain-Diffuser's first stage) from predicted hierarchical latents, on an ONNX export (generators/vdvae/export.py)",
  provides: [
    {
      kind: 'generator',
      id: 'vdvae',
      summary:
        "targets: the posterior latents of VDVAE's first 31 decoder blocks (91,168; 15 → 13,344); generate: the rest from the prior, a logistic-mixture sample, 64² upsampled to 512",
      optionsSchema: vdvaeOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('vdvae', {
    targetSpaces: () => [VDVAE_SPACE],
    models: (options) => [vdvaeRequirement(options as unknown as VdvaeOptions)],
    // One decode is a full pass through 75 blocks of width 512 (125 M parameters; 2 s per image on 2 CPU cores), so
    // the trivial floor — the same mean latent for every item, differing only in noise — is made for a seeded subset.
    costly: () => true,
    async create(options, services) {
      const { VdvaeGenerator } = await import('./vdvae.js');
      return new VdvaeGenerator(options as unknown as VdvaeOptions, services);
    },
  });
}
