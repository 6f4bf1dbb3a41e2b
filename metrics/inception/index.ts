/**
 * Plugin module of the Inception-v3 metrics: two-way identification on `avgpool` (`inception`, the "Incep" column
 * of Brain-Diffuser and MindEye) and Mind Reader's n-way identification by cosine (`n-way`). One graph serves both.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { pooledRequirement } from '../common/correlation-distance-metric.js';
import { INCEPTION } from './requirement.js';
import { inceptionOptionsSchema, nWayOptionsSchema, type InceptionOptions, type NWayOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-inception',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Inception-v3 metrics: two-way identification and n-way identification (needs the inception-v3 model)',
  provides: [
    {
      kind: 'metric',
      id: 'inception',
      summary: 'image; two-way identification (pairwise_corr_all) on Inception-v3 avgpool features (higher is better)',
      optionsSchema: inceptionOptionsSchema,
    },
    {
      kind: 'metric',
      id: 'n-way',
      summary: 'image; n-way identification by cosine of Inception-v3 avgpool features, seeded (Mind Reader) (higher is better)',
      optionsSchema: nWayOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  const models = (options: Record<string, unknown>) => [pooledRequirement(INCEPTION, (options as unknown as InceptionOptions).model)];
  registrar.metric('inception', {
    models,
    async create(options, services) {
      const { createInceptionMetric } = await import('./inception.js');
      return createInceptionMetric(options as unknown as InceptionOptions, services);
    },
  });
  registrar.metric('n-way', {
    models,
    async create(options, services) {
      const { createNWayMetric } = await import('./inception.js');
      return createNWayMetric(options as unknown as NWayOptions, services);
    },
  });
}
