/**
 * Gradient checkpointing for a residual block. tfjs keeps every intermediate tensor of a training pass, and the
 * gradient of each, until the step ends: for Mind Reader at paper size (32 × 7,872 positions × 64 channels, 64 MB
 * a tensor, eight tensors per block) that alone exceeds the wasm heap. As one custom-gradient op the block keeps
 * only its input and output; the backward pass recomputes the block and differentiates that recomputation.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import type { ForwardContext } from '../../core/training/layers.js';

export type Block = (x: tfc.Tensor, ctx: ForwardContext) => tfc.Tensor;

/**
 * block(x) with the gradient of x and of `params` (every trainable tensor the block reads) computed by
 * recomputation. The recomputing pass runs with `updateStatistics: false`, so BatchNorm updates its running
 * statistics once; dropout masks derive from the same context and so repeat.
 */
export function checkpoint(tf: TfModule, block: Block, x: tfc.Tensor, ctx: ForwardContext, params: tfc.Variable[]): tfc.Tensor {
  const custom = tf.customGrad((...args) => {
    const input = args[0] as tfc.Tensor;
    (args[args.length - 1] as tfc.GradSaveFunc)([input]);
    return {
      value: tf.tidy(() => block(input, ctx)),
      gradFunc: (dy: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const again = { ...ctx, updateStatistics: false };
        // A first-order tf.grads inside a backward pass ends by dropping the engine's tape, which the outer pass
        // still needs (it disposes its saved tensors from it): keep it aside and put it back.
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = state.activeTape;
        try {
          return tf.grads((...inputs: tfc.Tensor[]) => block(inputs[0]!, again))([saved[0]!, ...params], dy as tfc.Tensor);
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return custom(x, ...params) as tfc.Tensor;
}
