/** Plugin module of the `two-way` metric: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { twoWayOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-two-way',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "Two-way identification by Pearson correlation (Brain-Diffuser's pairwise_corr_all; MindEye)",
  provides: [
    {
      kind: 'metric',
      id: 'two-way',
      summary: 'latent or image (flattened); per item the fraction of other truths less correlated with it (chance 0.5)',
      optionsSchema: twoWayOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('two-way', {
    async create(_options, services) {
      const { TwoWayMetric } = await import('./two-way.js');
      return new TwoWayMetric(services.linalg);
    },
  });
}
