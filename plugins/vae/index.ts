/**
 * The plugin module: a manifest (read without loading the implementation) and a register function whose
 * factories import the network code on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { vaeOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-vae',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "CS292F's VAE mapper: fMRI → Gaussian over the target latent, decoded back to the fMRI",
  provides: [
    {
      kind: 'mapper',
      id: 'vae',
      summary: 'VAE whose latent is the target: predicts its mean; trained on fMRI reconstruction + target prediction (+ KL)',
      optionsSchema: vaeOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.mapper('vae', {
    async create(options, services) {
      const { vaeFactory } = await import('./model.js');
      return vaeFactory.create(options, services);
    },
    async load(dir, services) {
      const { vaeFactory } = await import('./model.js');
      return vaeFactory.load(dir, services);
    },
  });
}
