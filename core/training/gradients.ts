/**
 * tfjs-core alone registers no gradient functions: the `@tensorflow/tfjs` union package does (its bundle defines
 * and registers them, as `@tensorflow/tfjs-node` does by importing it). Importing it once registers them in the
 * process-global registry that every backend's tfjs-core shares (one deduplicated tfjs-core 4.22 copy).
 */
import type { TfModule } from '../compute/tfjs.js';

let registering: Promise<void> | undefined;

export function ensureGradients(tf: TfModule): Promise<void> {
  if (tf.getGradient('Add') !== undefined && tf.getGradient('BatchMatMul') !== undefined) return Promise.resolve();
  registering ??= import('@tensorflow/tfjs').then(
    () => {
      if (tf.getGradient('BatchMatMul') === undefined) throw new Error('@tensorflow/tfjs loaded but registered no gradients for this tfjs-core');
    },
    (error: unknown) => {
      registering = undefined;
      throw error;
    },
  );
  return registering;
}
