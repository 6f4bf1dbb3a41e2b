/**
 * Test helpers: create a metric through its plugin module as core would (options validated against the
 * contribution's schema with defaults filled in by ajv), and build inputs.
 */
import { Ajv } from 'ajv';
import type { Metric, MetricFactory, MetricInput, Options, PluginModule } from '../../core/contracts.js';
import { createJsLinalg } from '../../core/compute/linalg.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch } from '../../core/tensor.js';

const services = { linalg: createJsLinalg() } as unknown as PluginServices;

export async function createMetric(module: PluginModule, id: string, options: Options = {}): Promise<Metric> {
  const contribution = module.manifest.provides.find((c) => c.id === id);
  if (!contribution) throw new Error(`${module.manifest.name} does not declare ${id}`);
  const validate = new Ajv({ useDefaults: true }).compile(contribution.optionsSchema);
  const filled = structuredClone(options);
  if (!validate(filled)) throw new Error(`invalid options: ${JSON.stringify(validate.errors)}`);
  const factories = new Map<string, MetricFactory>();
  const refuse = () => {
    throw new Error('a metric plugin registered a non-metric');
  };
  module.register({
    metric: (name, factory) => factories.set(name, factory),
    dataset: refuse,
    mapper: refuse,
    get generators(): never {
      return refuse();
    },
    generator: refuse,
  });
  const factory = factories.get(id);
  if (!factory) throw new Error(`${module.manifest.name} declares ${id} but registers no factory for it`);
  return factory.create(filled, services);
}

export function latent(pred: number[][], truth: number[][]): MetricInput {
  const toMatrix = (rows: number[][]) => ({
    rows: rows.length,
    cols: rows[0]?.length ?? 0,
    data: Float32Array.from(rows.flat()),
  });
  return { kind: 'latent', space: 'test', pred: toMatrix(pred), truth: toMatrix(truth) };
}

export function imageBatch(count: number, height: number, width: number, channels: number, data: Float32Array): ImageBatch {
  return { count, height, width, channels, data };
}

/** Seeded standard-normal rows (Box–Muller on a tiny LCG, independent of core/rng.ts). */
export function normalRows(rows: number, cols: number, seed: number): number[][] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 1) / 4294967297;
  };
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())),
  );
}
