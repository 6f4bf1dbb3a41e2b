/** The command map (oclif explicit strategy): command id → class. */
import AnalyzeLatentSize from './analyze/latent-size.js';
import AnalyzeNoiseSensitivity from './analyze/noise-sensitivity.js';
import AnalyzeRoi from './analyze/roi.js';
import Bench from './bench.js';
import CacheClean from './cache/clean.js';
import CacheLs from './cache/ls.js';
import Compare from './compare.js';
import DatasetsInspect from './datasets/inspect.js';
import Export from './export.js';
import ModelsCheck from './models/check.js';
import ModelsList from './models/list.js';
import PluginsInspect from './plugins/inspect.js';
import PluginsList from './plugins/list.js';
import Predict from './predict.js';
import Report from './report.js';
import Run from './run.js';

export const COMMANDS = {
  run: Run,
  compare: Compare,
  report: Report,
  export: Export,
  predict: Predict,
  bench: Bench,
  'analyze:noise-sensitivity': AnalyzeNoiseSensitivity,
  'analyze:latent-size': AnalyzeLatentSize,
  'analyze:roi': AnalyzeRoi,
  'plugins:list': PluginsList,
  'plugins:inspect': PluginsInspect,
  'datasets:inspect': DatasetsInspect,
  'models:list': ModelsList,
  'models:check': ModelsCheck,
  'cache:ls': CacheLs,
  'cache:clean': CacheClean,
};
