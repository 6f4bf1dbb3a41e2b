/** Plugin module of the `mse` metric: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { mseOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-mse',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Mean squared error between predicted and true latent targets',
  provides: [
    {
      kind: 'metric',
      id: 'mse',
      summary: 'latent MSE; per item the mean over dimensions of the squared error (lower is better)',
      optionsSchema: mseOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('mse', {
    async create() {
      const { MseMetric } = await import('./mse.js');
      return new MseMetric();
    },
  });
}
