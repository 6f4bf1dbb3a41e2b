/**
 * The plugin module: a manifest (read without loading the implementation) and a register function whose
 * factories import the implementation on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { chebnetOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-chebnet-gcn',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'ChebNet graph convolution over an ROI functional-connectivity graph (Hou & Khoshnoo, CS292F)',
  provides: [
    {
      kind: 'mapper',
      id: 'chebnet-gcn',
      summary: 'ChebConv(K=4) → ChebConv(K=3) over V1/V2/V3+hV4 nodes, mean pool, residual Conv1d, dense 1024; Adam, early stopping',
      optionsSchema: chebnetOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.mapper('chebnet-gcn', {
    async create(options, services) {
      const { chebnetFactory } = await import('./mapper.js');
      return chebnetFactory.create(options, services);
    },
    async load(dir, services) {
      const { chebnetFactory } = await import('./mapper.js');
      return chebnetFactory.load(dir, services);
    },
  });
}
