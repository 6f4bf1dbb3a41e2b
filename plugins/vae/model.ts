/**
 * CS292F's VAE mapper (seed 001 §2.5.2; subawocit/cs292f image_encoder.ipynb `Encoder`, `FBL`, `Decoder`): the
 * encoder maps fMRI to the mean and log-variance of a Gaussian over the TARGET latent; a sample z of it is decoded
 * back to the fMRI. Training minimises loss(z, target) + reconstructionWeight·MSE(reconstruction, x) (+ klWeight·KL),
 * the last terms as the pass's auxiliary loss (core/training); prediction is the mean. Parameter names are the
 * notebook's state_dict keys.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { Rng } from '../../core/rng.js';
import { BatchNorm1d, Linear, type ForwardContext } from '../../core/training/layers.js';
import { neuralMapperFactory, type ModelOutput, type ModelShapes, type NeuralModel, type NeuralSpec } from '../../core/training/neural-mapper.js';
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

export class VaeNetwork implements NeuralModel<ModelOutput> {
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
    const z = this.sample(mu, logVar, eps);
    const reconstruction = this.decode(z, ctx);
    return { mu, logVar, z, reconstruction, reconstructionLoss: mseLoss(tf, reconstruction, x), kl: klDivergence(tf, mu, logVar) };
  }

  /**
   * A training-mode pass with the given noise: the sample z is the output (the trainer's loss(z, target)), and
   * reconstructionWeight·MSE(decoder(z), x) + klWeight·KL is its auxiliary loss.
   */
  pass(x: tfc.Tensor2D, eps: tfc.Tensor2D, ctx: ForwardContext): ModelOutput {
    const { mu, logVar } = this.encode(x);
    const z = this.sample(mu, logVar, eps);
    return { output: z, auxiliaryLoss: (rows) => this.auxiliaryLoss(rows, z, mu, logVar, ctx) };
  }

  /** Standard normal noise of the latent's shape, seeded by the pass (same context, same noise). */
  noise(rows: number, ctx: ForwardContext): tfc.Tensor2D {
    const rng = new Rng(mixSeed(ctx.seed, this.noiseIndex));
    const values = new Float32Array(rows * this.shapes.outputs);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal();
    return this.tf.tensor2d(values, [rows, this.shapes.outputs], 'float32');
  }

  /**
   * Training: the sample z with the reconstruction (+ KL) loss. Evaluation: the mean μ, with the same loss for z = μ
   * (the validation loss); prediction never asks for it, so it does not run the decoder.
   */
  forward(x: tfc.Tensor2D, ctx: ForwardContext): ModelOutput {
    if (ctx.training) return this.pass(x, this.noise(x.shape[0], ctx), ctx);
    const { mu, logVar } = this.encode(x);
    return { output: mu, auxiliaryLoss: (rows) => this.auxiliaryLoss(rows, mu, mu, logVar, ctx) };
  }

  private sample(mu: tfc.Tensor2D, logVar: tfc.Tensor2D, eps: tfc.Tensor2D): tfc.Tensor2D {
    const { tf } = this;
    return tf.add(mu, tf.mul(eps, tf.exp(tf.mul(logVar, 0.5)))) as tfc.Tensor2D;
  }

  /** reconstructionWeight·MSE(decoder(z), x) + klWeight·KL; the KL term is left out of the graph at weight 0. */
  private auxiliaryLoss(x: tfc.Tensor2D, z: tfc.Tensor2D, mu: tfc.Tensor2D, logVar: tfc.Tensor2D, ctx: ForwardContext): tfc.Scalar {
    const { tf } = this;
    const reconstruction = tf.mul(mseLoss(tf, this.decode(z, ctx), x), this.arch.reconstructionWeight) as tfc.Scalar;
    return this.arch.klWeight > 0 ? (tf.add(reconstruction, tf.mul(klDivergence(tf, mu, logVar), this.arch.klWeight)) as tfc.Scalar) : reconstruction;
  }
}

function mseLoss(tf: TfModule, a: tfc.Tensor, b: tfc.Tensor): tfc.Scalar {
  return tf.mean(tf.squaredDifference(a, b)) as tfc.Scalar;
}

/** As the notebook's commented-out KLD: −½·mean(1 + logσ² − μ² − σ²), a mean over batch and dimensions. */
function klDivergence(tf: TfModule, mu: tfc.Tensor2D, logVar: tfc.Tensor2D): tfc.Scalar {
  return tf.mul(tf.mean(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar))), -0.5) as tfc.Scalar;
}

export const vaeSpec: NeuralSpec<VaeOptions> = {
  id: 'vae',
  defaults: VAE_TRAINING_DEFAULTS,
  build: (store, shapes, options) => new VaeNetwork(store, shapes, options),
};

export const vaeFactory = neuralMapperFactory(vaeSpec);
