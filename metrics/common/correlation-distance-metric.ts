/**
 * The feature metrics that Brain-Diffuser (`evaluate_reconstruction.py`) and MindEye (`Reconstruction_Metrics.py`)
 * score by mean correlation distance — EffNet-B and SwAV: one `features` graph, input `images` float32
 * [batch, 3, height, width], one pooled output [batch, channels]; per image scipy `correlation(gt_i, pred_i)`
 * (feature-comparisons.ts), lower is better. metrics/effnet-b and metrics/swav differ only in the network they name.
 * metrics/inception takes the same graph signature (`pooledRequirement`) for its identification metrics.
 */
import type { Metric, MetricInput, MetricResult, ModelRequirement } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch } from '../../core/tensor.js';
import { networkInput, type FeatureNetwork as NetworkName, type VisionConvention } from '../../core/vision/index.js';
import { meanOf } from './aggregate.js';
import { correlationDistance } from './feature-comparisons.js';
import { FeatureNetwork, flattened, GrayNotice, pairedImages, TruthFeatureCache } from './feature-network.js';

export const POOLED_INPUT = 'images';

/** What one correlation-distance metric extracts: which preprocessing, which output, how many channels. */
export interface PooledNetwork {
  /** Metric id, in messages. */
  id: string;
  /** Preprocessing (core/vision networkInput). */
  network: Extract<NetworkName, 'inception' | 'effnet' | 'swav'>;
  role: string;
  /** Output name and its width (EfficientNet-B1 1280, ResNet-50 2048). */
  output: string;
  channels: number;
  produce: string;
}

export interface CorrelationDistanceOptions {
  model: string;
  convention: VisionConvention;
}

export const pooledRequirement = (net: PooledNetwork, model: string): ModelRequirement => ({
  role: net.role,
  model,
  graphs: {
    // Height and width symbolic: Brain-Diffuser feeds 224, MindEye 255 (EffNet) or 224 (SwAV).
    features: {
      inputs: [{ name: POOLED_INPUT, type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
      outputs: [{ name: net.output, type: 'float32', dims: ['batch', net.channels] }],
    },
  },
  produce: net.produce,
});

export async function createCorrelationDistanceMetric(net: PooledNetwork, options: CorrelationDistanceOptions, services: PluginServices): Promise<Metric> {
  const where = `metric '${net.id}'`;
  const requirement = pooledRequirement(net, options.model);
  const folder = await services.models.folder(options.model, where, requirement.produce);
  const graph = folder.graphs.features;
  if (!graph) throw new UserError(`model '${options.model}' has no 'features' graph; expected the folder that ${net.produce.split(' (')[0]} writes`, where);
  const network = new FeatureNetwork(await services.models.session(graph), POOLED_INPUT, where);
  return new CorrelationDistanceMetric(net, network, options.convention, where, await TruthFeatureCache.open(services, folder), new GrayNotice(services.log, where));
}

class CorrelationDistanceMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'lower' as const;

  constructor(
    private readonly net: PooledNetwork,
    private readonly network: FeatureNetwork,
    private readonly convention: VisionConvention,
    private readonly where: string,
    private readonly truths: TruthFeatureCache,
    private readonly gray: GrayNotice,
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, this.where);
    const { output } = this.net;
    const features = async (images: ImageBatch, what: string) => {
      const prepare = async (batch: ImageBatch) => this.gray.checked(await networkInput(batch, this.net.network, this.convention), what);
      const result = (await this.network.run(images, prepare, [output]))[output]!;
      if (result.shape.length !== 1 || result.shape[0] !== this.net.channels) {
        throw new UserError(`output '${output}' is [batch, ${result.shape.join(', ')}]; expected [batch, ${this.net.channels}]`, this.where);
      }
      return flattened(result);
    };
    const extraction = { network: this.net.network, output, convention: this.convention };
    const truthFeatures = await this.truths.features(truth, extraction, () => features(truth, 'ground-truth images'));
    const perItem = correlationDistance(await features(pred, 'reconstructions'), truthFeatures);
    return { value: meanOf(perItem), perItem };
  }
}

/** The options schema both plugins share (`model` default differs). */
export const correlationDistanceSchema = (defaultModel: string, mindeyeSize: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: {
      model: { type: 'string', default: defaultModel, description: 'model name (neurodecode.config.json "models") or folder' },
      convention: {
        type: 'string',
        enum: ['brain-diffuser', 'mindeye'],
        default: 'brain-diffuser',
        description: `whose preprocessing: PIL bilinear to 224 (brain-diffuser) or tensor bilinear to ${mindeyeSize} (mindeye)`,
      },
    },
  }) as const;
