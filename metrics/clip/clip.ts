/**
 * The `clip` metric (Brain-Diffuser `eval_extract_features.py` net 'clip', layer 'final', + `evaluate_reconstruction.py`;
 * MindEye `Reconstruction_Metrics.py`): images resized to 224 per convention and CLIP-normalised (core/vision
 * `networkInput`), the projected image embedding (`encode_image`, not L2-normalised) of each image, then two-way
 * identification (`pairwise_corr_all`, metrics/two-way).
 */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch } from '../../core/tensor.js';
import { networkInput } from '../../core/vision/index.js';
import { meanOf } from '../common/aggregate.js';
import { FeatureNetwork, flattened, GrayNotice, pairedImages, TruthFeatureCache } from '../common/feature-network.js';
import { twoWayIdentification } from '../two-way/two-way.js';
import { CLIP_INPUT, CLIP_OUTPUT, clipRequirement } from './requirement.js';
import type { ClipOptions } from './schema.js';

export async function createClipMetric(options: ClipOptions, services: PluginServices): Promise<Metric> {
  const where = "metric 'clip'";
  const requirement = clipRequirement(options.model);
  const folder = await services.models.folder(options.model, where, requirement.produce);
  const graph = folder.graphs.vision;
  if (!graph) throw new UserError(`model '${options.model}' has no onnx/vision_model.onnx; expected a transformers.js CLIP folder`, where);
  const session = await services.models.session(graph);
  if (!session.outputNames.includes(CLIP_OUTPUT)) {
    throw new UserError(
      `${graph.file} has outputs ${session.outputNames.join(', ')}; expected '${CLIP_OUTPUT}' (a CLIPVisionModelWithProjection export)`,
      where,
    );
  }
  const network = new FeatureNetwork(session, CLIP_INPUT, where);
  return new ClipMetric(network, options.convention, where, await TruthFeatureCache.open(services, folder), new GrayNotice(services.log, where));
}

class ClipMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  constructor(
    private readonly network: FeatureNetwork,
    private readonly convention: ClipOptions['convention'],
    private readonly where: string,
    private readonly truths: TruthFeatureCache,
    private readonly gray: GrayNotice,
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, this.where);
    if (pred.count < 2) throw new UserError(`${pred.count} test image; expected at least 2 for two-way identification`, this.where);
    const features = async (images: ImageBatch, what: string) => {
      const prepared = await networkInput(images, 'clip', this.convention);
      this.gray.check(prepared, what);
      return flattened((await this.network.run(prepared, [CLIP_OUTPUT]))[CLIP_OUTPUT]!);
    };
    const extraction = { network: 'clip', output: CLIP_OUTPUT, convention: this.convention };
    const truthFeatures = await this.truths.features(truth, extraction, () => features(truth, 'ground-truth images'));
    const perItem = twoWayIdentification(await features(pred, 'reconstructions'), truthFeatures);
    return { value: meanOf(perItem), perItem };
  }
}
