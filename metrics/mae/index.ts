/** Plugin module of the `mae` metric: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { maeOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-mae',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Mean absolute error between predicted and true latent targets',
  provides: [
    {
      kind: 'metric',
      id: 'mae',
      summary: 'latent MAE; per item the mean over dimensions of the absolute error (lower is better)',
      optionsSchema: maeOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('mae', {
    async create() {
      const { MaeMetric } = await import('./mae.js');
      return new MaeMetric();
    },
  });
}
