/** Well-known inversify service identifiers. Plugins bind factories to the kind tokens; the registry collects them. */
import type { DatasetFactory, GeneratorFactory, MapperFactory, MetricFactory, PluginKind } from './contracts.js';

export const TOKENS = {
  Config: Symbol.for('neurodecode.Config'),
  Logger: Symbol.for('neurodecode.Logger'),
  Progress: Symbol.for('neurodecode.Progress'),
  Cache: Symbol.for('neurodecode.Cache'),
  Linalg: Symbol.for('neurodecode.Linalg'),
  Onnx: Symbol.for('neurodecode.Onnx'),
  Tensorflow: Symbol.for('neurodecode.Tensorflow'),
  Models: Symbol.for('neurodecode.Models'),
  Services: Symbol.for('neurodecode.Services'),
  Registry: Symbol.for('neurodecode.Registry'),
} as const;

export interface FactoryOfKind {
  dataset: DatasetFactory;
  mapper: MapperFactory;
  generator: GeneratorFactory;
  metric: MetricFactory;
}

/** One token per plugin kind; each binding is a `BoundFactory` tagged with its contribution id. */
export const FACTORY_TOKENS: Record<PluginKind, symbol> = {
  dataset: Symbol.for('neurodecode.DatasetFactory'),
  mapper: Symbol.for('neurodecode.MapperFactory'),
  generator: Symbol.for('neurodecode.GeneratorFactory'),
  metric: Symbol.for('neurodecode.MetricFactory'),
};

export interface BoundFactory<K extends PluginKind = PluginKind> {
  kind: K;
  id: string;
  factory: FactoryOfKind[K];
}
