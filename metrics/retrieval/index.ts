/**
 * Plugin module of MindEye's top-1 retrieval, in both directions: brain → image (`retrieval-forward`) and
 * image → brain (`retrieval-backward`). Factories import the implementation on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { retrievalOptionsSchema, type RetrievalOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-retrieval',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'MindEye top-1 retrieval among random batches of 300, cosine similarity of flattened embeddings',
  provides: [
    {
      kind: 'metric',
      id: 'retrieval-forward',
      summary: 'latent or image; brain → image: is each prediction closest to its own truth in its batch (higher is better)',
      optionsSchema: retrievalOptionsSchema,
    },
    {
      kind: 'metric',
      id: 'retrieval-backward',
      summary: 'latent or image; image → brain: is each truth closest to its own prediction in its batch (higher is better)',
      optionsSchema: retrievalOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('retrieval-forward', {
    async create(options, services) {
      const { RetrievalMetric } = await import('./retrieval.js');
      return new RetrievalMetric('forward', options as unknown as RetrievalOptions, services.linalg);
    },
  });
  registrar.metric('retrieval-backward', {
    async create(options, services) {
      const { RetrievalMetric } = await import('./retrieval.js');
      return new RetrievalMetric('backward', options as unknown as RetrievalOptions, services.linalg);
    },
  });
}
