/**
 * The plugin module: a manifest (read without loading the implementation) and a register function whose
 * factories import the implementation on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { ridgeOptionsSchema, type RidgeOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-ridge',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Multi-target ridge regression in dual (kernel) form',
  provides: [
    {
      kind: 'mapper',
      id: 'ridge',
      summary: 'multi-target ridge with intercept; alpha fixed or by k-fold CV (shared or per target)',
      optionsSchema: ridgeOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.mapper('ridge', {
    async create(options, services) {
      const { RidgeMapper } = await import('./ridge.js');
      return new RidgeMapper(options as unknown as RidgeOptions, services);
    },
    async load(dir, services) {
      const { loadFittedRidge } = await import('./ridge.js');
      return loadFittedRidge(dir, services);
    },
  });
}
