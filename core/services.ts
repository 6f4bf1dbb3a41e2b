/** The services core hands to plugin factories (resolved from the inversify container). */
import type { ArtifactCache } from './cache.js';
import type { Linalg } from './compute/linalg.js';
import type { OnnxSessions } from './compute/onnx.js';
import type { TensorflowProvider } from './compute/tfjs.js';
import type { Logger } from './logging.js';
import type { ModelStore } from './models/store.js';
import type { Progress } from './progress.js';

export interface PluginServices {
  log: Logger;
  progress: Progress;
  /** Dense linear algebra near the machine's matrix-multiply peak. */
  linalg: Linalg;
  /** ONNX Runtime sessions for pretrained networks. */
  onnx: OnnxSessions;
  /** Named pretrained model folders: resolve, read, open their graphs (sessions shared with the pre-run check). */
  models: ModelStore;
  /** TensorFlow.js with the backend chosen at start (imported on first use). */
  tensorflow: TensorflowProvider;
  /** The artifact cache (e.g. for a dataset's prepared voxel matrices); `cache.enabled` is false with --no-cache. */
  cache: ArtifactCache;
}
