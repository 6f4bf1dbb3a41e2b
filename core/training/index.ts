/**
 * Shared training core for neural mappers: parameters named as PyTorch's state_dict, PyTorch-equivalent layers on
 * tfjs-core ops, losses, the training loop and the neural mapper base (fit, save, load).
 */
export { ensureGradients } from './gradients.js';
export { ParamStore, init, mixSeed, seedFor, type Initializer, type ParamEntry } from './params.js';
export {
  BatchNorm1d,
  Conv1d,
  Dropout,
  GRU,
  LayerNorm,
  Linear,
  MaxPool1d,
  MultiheadAttention,
  conv1dChannelsLast,
  leakyRelu,
  linear,
  matMul,
  relu,
  type Conv1dOptions,
  type ConvOptions,
  type ForwardContext,
} from './layers.js';
export { combine, cosine, infoNce, mse, mseCosine, type LossFn } from './losses.js';
export {
  LOSSES,
  PROJECTION_ENGINES,
  lossFromOptions,
  trainingOptionsProperties,
  type LossName,
  type TrainingDefaults,
  type TrainingOptions,
} from './schema.js';
export {
  NEURAL_FORMAT,
  NEURAL_FORMAT_VERSION,
  defaultTrainingOptions,
  schemaDefaults,
  neuralMapperFactory,
  passLoss,
  splitPass,
  type BuildContext,
  type ModelOutput,
  type PassResult,
  type InputProjection,
  type ModelShapes,
  type NeuralModel,
  type NeuralSpec,
} from './neural-mapper.js';
export {
  projectionEngineFor,
  stackWeights,
  trainNetwork,
  validationSplit,
  type Batch,
  type Evaluation,
  type ForwardEngine,
  type TrainResult,
} from './trainer.js';
