/**
 * The `clip` metric (Brain-Diffuser `eval_extract_features.py` net 'clip', layer 'final', + `evaluate_reconstruction.py`;
 * MindEye `Reconstruction_Metrics.py`): images resized to 224 per convention and CLIP-normalised (core/vision
 * `networkInput`), the projected image embedding (`encode_image`, not L2-normalised) of each image, then two-way
 * identification (`pairwise_corr_all`, metrics/two-way).
 */
import type { Metric } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import { FeatureNetwork, GrayNotice, TruthFeatureCache, TwoWayFeatureMetric } from '../common/feature-network.js';
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
  const extraction = { network: 'clip' as const, output: CLIP_OUTPUT, convention: options.convention };
  return new TwoWayFeatureMetric(network, extraction, where, await TruthFeatureCache.open(services, folder), new GrayNotice(services.log, where), services.linalg);
}
