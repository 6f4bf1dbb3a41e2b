/**
 * CS292F's VAE mapper (seed 001 §2.5.2; subawocit/cs292f image_encoder.ipynb `Encoder`, `FBL`, `Decoder`): the
 * encoder maps fMRI to the mean and log-variance of a Gaussian over the TARGET latent; a sample z of it is decoded
 * back to the fMRI. Training minimises MSE(reconstruction, x)·reconstructionWeight + loss(z, target)
 * (+ klWeight·KL); prediction is the mean. Parameter names are the notebook's state_dict keys.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { Rng } from '../../core/rng.js';
import { BatchNorm1d, Linear, type ForwardContext } from '../../core/training/layers.js';
import { neuralMapperFactory, type ModelShapes, type NeuralModel, type NeuralSpec } from '../../core/training/neural-mapper.js';
import { mixSeed, type ParamStore } from '../../core/training/params.js';
import { VAE_TRAINING_DEFAULTS, type VaeOptions } from './schema.js';

/** nn.LeakyReLU's default negative slope, used throughout the notebook. */
const LEAKY_SLOPE = 0.01;

export type VaeArchitecture = Pick<VaeOptions, 'encoderWidths' | 'decoderWidth' | 'decoderSkips' | 'reconstructionWeight' | 'klWeight'>;

/** Everything one training-mode pass computes, for a given reparameterisation noise. */
export interface VaeTerms {
  mu: tfc.Tensor2D;
  logVar: tfc.Tensor2D;
  z: tfc.Tensor2D;
  reconstruction: tfc.Tensor2D;
  reconstructionLoss: tfc.Scalar;
  kl: tfc.Scalar;
}

/** FBL: Linear → BatchNorm1d → LeakyReLU. */
export class DenseBlock {
  private readonly fc: Linear;
  private readonly bn: BatchNorm1d;
  constructor(
    private readonly store: ParamStore,
    inFeatures: number,
    outFeatures: number,
  ) {
    this.fc = new Linear(store, 'fc', inFeatures, outFeatures);
    this.bn = new BatchNorm1d(store, 'bn', outFeatures);
  }

  apply(x: tfc.Tensor, ctx: ForwardContext): tfc.Tensor {
    return this.store.tf.leakyRelu(this.bn.apply(this.fc.apply(x), ctx), LEAKY_SLOPE);
  }
}

export class VaeNetwork implements NeuralModel {
  private readonly tf: TfModule;
  private readonly ln1: Linear;
  private readonly ln2: Linear;
  private readonly fcMu: Linear;
  private readonly fcLogVar: Linear;
  private readonly blocks: DenseBlock[];
  private readonly finalFc: Linear;
  private readonly noiseIndex: number;

  constructor(
    store: ParamStore,
    readonly shapes: ModelShapes,
    private readonly arch: VaeArchitecture,
  ) {
    this.tf = store.tf;
    const [w1, w2] = arch.encoderWidths;
    const enc = store.scope('fMRI_encoder');
    this.ln1 = new Linear(enc, 'ln1', shapes.inputs, w1);
    this.ln2 = new Linear(enc, 'ln2', w1, w2);
    this.fcMu = new Linear(enc, 'fc_mu', w2, shapes.outputs);
    this.fcLogVar = new Linear(enc, 'fc_log_var', w2, shapes.outputs);
    const dec = store.scope('decoder');
    const h = arch.decoderWidth;
    this.blocks = [1, 2, 3].map((i) => new DenseBlock(dec.scope(`fbl${i}`), i === 1 ? shapes.outputs : h, h));
    this.finalFc = new Linear(dec, 'final_fc', h, shapes.inputs);
    this.noiseIndex = store.nextLayerIndex();
  }

  /** Mean and log-variance of the target latent: ln2(LeakyReLU(ln1(x))) → fc_mu, fc_log_var. */
  encode(x: tfc.Tensor2D): { mu: tfc.Tensor2D; logVar: tfc.Tensor2D } {
    const h = this.ln2.apply(this.tf.leakyRelu(this.ln1.apply(x), LEAKY_SLOPE));
    return { mu: this.fcMu.apply(h) as tfc.Tensor2D, logVar: this.fcLogVar.apply(h) as tfc.Tensor2D };
  }

  /** fbl1, then fbl2 and fbl3 with skip connections (when enabled), then final_fc back to the voxels. */
  decode(z: tfc.Tensor2D, ctx: ForwardContext): tfc.Tensor2D {
    const { tf } = this;
    let h = this.blocks[0]!.apply(z, ctx);
    for (const block of this.blocks.slice(1)) h = this.arch.decoderSkips ? tf.add(h, block.apply(h, ctx)) : block.apply(h, ctx);
    return this.finalFc.apply(h) as tfc.Tensor2D;
  }

  /** One training-mode pass with the given noise: z = μ + ε·exp(½·logσ²), its reconstruction and the extra losses. */
  terms(x: tfc.Tensor2D, eps: tfc.Tensor2D, ctx: ForwardContext): VaeTerms {
    const { tf } = this;
    const { mu, logVar } = this.encode(x);
    const z = tf.add(mu, tf.mul(eps, tf.exp(tf.mul(logVar, 0.5)))) as tfc.Tensor2D;
    const reconstruction = this.decode(z, ctx);
    const reconstructionLoss = tf.mean(tf.squaredDifference(reconstruction, x)) as tfc.Scalar;
    // As the notebook's commented-out KLD: −½·mean(1 + logσ² − μ² − σ²), a mean over batch and dimensions.
    const kl = tf.mul(tf.mean(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar))), -0.5) as tfc.Scalar;
    return { mu, logVar, z, reconstruction, reconstructionLoss, kl };
  }

  /** The full training loss for given noise (tests compare the trainer's gradients with this one's). */
  trainingLoss(x: tfc.Tensor2D, eps: tfc.Tensor2D, targetLoss: (z: tfc.Tensor2D) => tfc.Scalar, ctx: ForwardContext): tfc.Scalar {
    const { tf } = this;
    const t = this.terms(x, eps, ctx);
    return tf.addN([targetLoss(t.z), tf.mul(t.reconstructionLoss, this.arch.reconstructionWeight), tf.mul(t.kl, this.arch.klWeight)]) as tfc.Scalar;
  }

  /** Standard normal noise of the latent's shape, seeded by the pass (same context, same noise). */
  noise(rows: number, ctx: ForwardContext): tfc.Tensor2D {
    const rng = new Rng(mixSeed(ctx.seed, this.noiseIndex));
    const values = new Float32Array(rows * this.shapes.outputs);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal();
    return this.tf.tensor2d(values, [rows, this.shapes.outputs], 'float32');
  }

  /**
   * Evaluation: the mean μ. Training: the sample z, carrying the gradient of the reconstruction (and KL) terms,
   * so that the shared trainer's loss(z, target) back-propagates the whole VAE objective (see README).
   */
  forward(x: tfc.Tensor2D, ctx: ForwardContext): tfc.Tensor2D {
    if (!ctx.training) return this.encode(x).mu;
    const t = this.terms(x, this.noise(x.shape[0], ctx), ctx);
    return withAuxiliaryGradient(this.tf, t, x, this.arch);
  }
}

/**
 * Returns z unchanged, but its backward pass also sends ∂(wᵣ·MSE(x̂, x) + w_kl·KL)/∂(x̂, μ, logσ²) into the
 * reconstruction, the mean and the log-variance. The trainer's loss sees only loss(z, target); with this the
 * gradient it applies is that of the whole objective. Closed forms, with N = rows × voxels and M = rows × dims:
 *   ∂MSE/∂x̂ = 2(x̂ − x)/N,   ∂KL/∂μ = μ/M,   ∂KL/∂logσ² = ½(exp(logσ²) − 1)/M.
 */
export function withAuxiliaryGradient(tf: TfModule, t: VaeTerms, x: tfc.Tensor2D, arch: VaeArchitecture): tfc.Tensor2D {
  const f = tf.customGrad((z, reconstruction, mu, logVar, save) => {
    (save as tfc.GradSaveFunc)([reconstruction as tfc.Tensor, mu as tfc.Tensor, logVar as tfc.Tensor]);
    return {
      value: tf.clone(z as tfc.Tensor),
      gradFunc: (dy: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const [r, m, lv] = saved as [tfc.Tensor2D, tfc.Tensor2D, tfc.Tensor2D];
        const dRecon = tf.mul(tf.sub(r, x), (2 * arch.reconstructionWeight) / r.size);
        const dMu = tf.mul(m, arch.klWeight / m.size);
        const dLogVar = tf.mul(tf.sub(tf.exp(lv), 1), (0.5 * arch.klWeight) / lv.size);
        return [dy as tfc.Tensor, dRecon, dMu, dLogVar];
      },
    };
  });
  return f(t.z, t.reconstruction, t.mu, t.logVar) as tfc.Tensor2D;
}

export const vaeSpec: NeuralSpec<VaeOptions> = {
  id: 'vae',
  defaults: VAE_TRAINING_DEFAULTS,
  build: (store, shapes, options) => new VaeNetwork(store, shapes, options),
};

export const vaeFactory = neuralMapperFactory(vaeSpec);
