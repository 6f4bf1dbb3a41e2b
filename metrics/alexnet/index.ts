/**
 * Plugin module of the AlexNet metrics: two-way identification on the features[4] (`alexnet-2`) and features[11]
 * (`alexnet-5`) ReLU outputs, as Brain-Diffuser and MindEye print them, and LPIPS v0.1 (`lpips`). One exported
 * graph with the five LPIPS taps serves all three.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { alexNetRequirement, type AlexNetMetricKind } from './requirement.js';
import { alexNetOptionsSchema, type AlexNetOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-alexnet',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'AlexNet feature metrics: two-way identification at layers 2 and 5, and LPIPS (needs the alexnet model)',
  provides: [
    {
      kind: 'metric',
      id: 'alexnet-2',
      summary: 'image; two-way identification (pairwise_corr_all) on AlexNet features[4] (relu2) (higher is better)',
      optionsSchema: alexNetOptionsSchema,
    },
    {
      kind: 'metric',
      id: 'alexnet-5',
      summary: 'image; two-way identification (pairwise_corr_all) on AlexNet features[11] (relu5) (higher is better)',
      optionsSchema: alexNetOptionsSchema,
    },
    {
      kind: 'metric',
      id: 'lpips',
      summary: 'image; LPIPS v0.1 distance with the AlexNet taps and the published lin weights (lower is better)',
      optionsSchema: alexNetOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  for (const kind of ['alexnet-2', 'alexnet-5', 'lpips'] as const satisfies readonly AlexNetMetricKind[]) {
    registrar.metric(kind, {
      models: (options) => [alexNetRequirement((options as unknown as AlexNetOptions).model)],
      async create(options, services) {
        const { createAlexNetMetric } = await import('./alexnet.js');
        return createAlexNetMetric(kind, options as unknown as AlexNetOptions, services);
      },
    });
  }
}
