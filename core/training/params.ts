/**
 * Named parameters of a neural model, created from a seed. Names follow PyTorch's state_dict (`gru1.weight_ih_l0`),
 * so that a saved model's tensors can be compared with, or loaded into, the reference implementation.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { Rng } from '../rng.js';
import type { TfModule } from '../compute/tfjs.js';

/** Fills `size` values from a seeded stream (one stream per parameter name: creation order does not matter). */
export type Initializer = (rng: Rng, size: number) => Float32Array;

/** PyTorch's defaults: Linear/Conv U(±1/√fan_in), GRU U(±1/√hidden), norms weight 1 bias 0. */
export const init = {
  uniform(bound: number): Initializer {
    return (rng, size) => {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * bound;
      return out;
    };
  },
  normal(std: number): Initializer {
    return (rng, size) => {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
      return out;
    };
  },
  constant(value: number): Initializer {
    return (_rng, size) => new Float32Array(size).fill(value);
  },
};

export interface ParamEntry {
  /** Full dotted name, e.g. `gru1.weight_ih_l0_reverse`. */
  name: string;
  variable: tfc.Variable;
  /** false for buffers (BatchNorm running statistics). */
  trainable: boolean;
}

/** State shared by a store and its scoped views. */
interface Registry {
  tf: TfModule;
  seed: number;
  entries: Map<string, ParamEntry>;
  layers: number;
}

export class ParamStore {
  private readonly registry: Registry;
  private readonly prefix: string;

  constructor(tf: TfModule, seed: number);
  constructor(registry: Registry, prefix: string);
  constructor(tfOrRegistry: TfModule | Registry, seedOrPrefix: number | string) {
    if (typeof seedOrPrefix === 'number') {
      this.registry = { tf: tfOrRegistry as TfModule, seed: seedOrPrefix, entries: new Map(), layers: 0 };
      this.prefix = '';
    } else {
      this.registry = tfOrRegistry as Registry;
      this.prefix = seedOrPrefix;
    }
  }

  get tf(): TfModule {
    return this.registry.tf;
  }

  /** A view whose names are prefixed with `prefix.` (nested scopes join with dots). */
  scope(prefix: string): ParamStore {
    return new ParamStore(this.registry, this.fullName(prefix));
  }

  /** A trainable variable initialised from the store's seed and the parameter's full name. */
  param(name: string, shape: number[], initializer: Initializer): tfc.Variable {
    const full = this.fullName(name);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = initializer(new Rng(seedFor(this.registry.seed, full)), size);
    return this.add(full, shape, values, true);
  }

  /** A non-trainable tensor saved with the model (e.g. BatchNorm running mean). */
  buffer(name: string, shape: number[], value: number | Float32Array): tfc.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = typeof value === 'number' ? new Float32Array(size).fill(value) : value;
    return this.add(this.fullName(name), shape, values, false);
  }

  /** A number unique within the model, in construction order (seeds per-layer randomness such as dropout masks). */
  nextLayerIndex(): number {
    return this.registry.layers++;
  }

  /** Number of trainable values. */
  count(): number {
    let n = 0;
    for (const e of this.registry.entries.values()) if (e.trainable) n += e.variable.size;
    return n;
  }

  /** Every parameter and buffer, in creation order. */
  entries(): ParamEntry[] {
    return [...this.registry.entries.values()];
  }

  trainableVariables(): tfc.Variable[] {
    return this.entries().filter((e) => e.trainable).map((e) => e.variable);
  }

  /** Copies of every tensor's values (for keeping the best epoch). */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const e of this.registry.entries.values()) out.set(e.name, Float32Array.from(e.variable.dataSync() as Float32Array));
    return out;
  }

  /** Overwrites values from a snapshot (or loaded arrays); shapes were checked by the caller. */
  restore(values: Map<string, Float32Array>): void {
    const { tf } = this.registry;
    for (const e of this.registry.entries.values()) {
      const v = values.get(e.name);
      if (!v) continue;
      tf.tidy(() => e.variable.assign(tf.tensor(v, e.variable.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const e of this.registry.entries.values()) e.variable.dispose();
    this.registry.entries.clear();
  }

  private fullName(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}.${name}`;
  }

  private add(full: string, shape: number[], values: Float32Array, trainable: boolean): tfc.Variable {
    if (this.registry.entries.has(full)) throw new Error(`parameter ${full} defined twice`);
    const { tf } = this.registry;
    // A unique engine-wide variable name: several models may live in one process.
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable, `${full}#${uniqueId++}`);
    initial.dispose();
    this.registry.entries.set(full, { name: full, variable, trainable });
    return variable;
  }
}

let uniqueId = 0;

/** A 32-bit seed from the store seed and a name (FNV-1a), so each tensor has its own stream. */
export function seedFor(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Combines integers into one 32-bit seed (per batch, per layer). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
