/** Plugin module of the `pearson` metric: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { pearsonOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-pearson',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: "Per-item Pearson correlation across target dimensions (Takagi & Nishimoto's score)",
  provides: [
    {
      kind: 'metric',
      id: 'pearson',
      summary: 'latent; per item the Pearson r between predicted and true target vectors (higher is better)',
      optionsSchema: pearsonOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('pearson', {
    async create() {
      const { PearsonMetric } = await import('./pearson.js');
      return new PearsonMetric();
    },
  });
}
