/** Plugin services for unit tests: the plain JS engine (or the one given), the log captured, no cache. */
import { createJsLinalg, type Linalg } from '../../core/compute/linalg.js';
import { createTensorflowProvider, type TfBackendPreference } from '../../core/compute/tfjs.js';
import { silentProgress } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';

export function testServices(options: { linalg?: Linalg; tfBackend?: TfBackendPreference } = {}): PluginServices & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    log: {
      info: (m) => messages.push(`info: ${m}`),
      warn: (m) => messages.push(`warn: ${m}`),
      debug: () => {},
    },
    progress: silentProgress,
    linalg: options.linalg ?? createJsLinalg(),
    onnx: undefined as never,
    models: undefined as never,
    tensorflow: options.tfBackend ? createTensorflowProvider({ backend: options.tfBackend, env: {} }) : (undefined as never),
    cache: undefined as never,
  };
}
