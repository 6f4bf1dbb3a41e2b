/**
 * The `gru` mapper plugin (seed 000, Veronese et al.): manifest read without loading the implementation, and a
 * register function whose factory imports it on first use.
 */
import { PLUGIN_API_VERSION, type FittedMapper, type Mapper, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { gruOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-gru',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Bidirectional-GRU mapper of Veronese et al. (seed 000, Table 1) and its CNN / transformer ablations',
  provides: [
    {
      kind: 'mapper',
      id: 'gru',
      summary: 'BiGRU → LN → BiGRU → LN → dense 200 + BatchNorm → targets (12.4 M parameters at NSD size); variants cnn-hybrid, transformer-hybrid',
      optionsSchema: gruOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.mapper('gru', {
    async create(options, services): Promise<Mapper> {
      const { gruMapperFactory } = await import('./model.js');
      return gruMapperFactory.create(options, services);
    },
    async load(dir, services): Promise<FittedMapper> {
      const { gruMapperFactory } = await import('./model.js');
      return gruMapperFactory.load(dir, services);
    },
  });
}
