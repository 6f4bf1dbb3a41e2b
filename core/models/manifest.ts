/**
 * `model.json`: the manifest of a neurodecode model folder, for networks with no standard ONNX layout (the
 * torchvision feature networks, VDVAE, …). It says where the weights came from and what each graph takes and gives.
 */
import { readFile } from 'node:fs/promises';
import type { OnnxSignature, OnnxValueSpec } from '../compute/onnx.js';
import type { JsonSchema } from '../contracts.js';
import { UserError } from '../errors.js';
import { validateWithSchema } from '../validation.js';

export const MANIFEST_FILE = 'model.json';

export interface ManifestValue extends OnnxValueSpec {
  /** For `models check`: the size of the test input (symbolic dimensions filled in). */
  testDims?: number[];
}

export interface ManifestGraph {
  /** The .onnx file, relative to the folder. */
  file: string;
  inputs: ManifestValue[];
  outputs: ManifestValue[];
}

export interface ModelManifest {
  name: string;
  source: {
    /** The public checkpoint the graphs were exported from (URL or torchvision/hub name). */
    checkpoint: string;
    /** sha256 of that checkpoint file; null when the weights are not from a checkpoint (random, for tests). */
    sha256: string | null;
  };
  licence: string;
  /** Graph role (e.g. `features`) → file and signature. */
  graphs: Record<string, ManifestGraph>;
  /** How inputs must be prepared (size, mean/std, …): free-form, read by the plugin that uses the model. */
  preprocessing?: Record<string, unknown>;
  /** The export recipe that wrote the folder, for the record. */
  exportedBy?: string;
}

export const TENSOR_TYPES = ['float32', 'float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string'];

const valueSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'dims'],
  properties: {
    name: { type: 'string', minLength: 1 },
    type: { enum: TENSOR_TYPES },
    dims: {
      type: 'array',
      description: 'a number is fixed, a string is symbolic (chosen at run time), null is anything',
      items: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }, { type: 'null' }] },
    },
    testDims: { type: 'array', items: { type: 'integer', minimum: 1 } },
  },
};

export const modelManifestSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'source', 'licence', 'graphs'],
  properties: {
    name: { type: 'string', minLength: 1 },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['checkpoint', 'sha256'],
      properties: {
        checkpoint: { type: 'string', minLength: 1 },
        sha256: { anyOf: [{ type: 'string', pattern: '^[0-9a-f]{64}$' }, { type: 'null' }] },
      },
    },
    licence: { type: 'string', minLength: 1 },
    graphs: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['file', 'inputs', 'outputs'],
        properties: {
          file: { type: 'string', pattern: '\\.onnx$' },
          inputs: { type: 'array', minItems: 1, items: valueSchema },
          outputs: { type: 'array', minItems: 1, items: valueSchema },
        },
      },
    },
    preprocessing: { type: 'object' },
    exportedBy: { type: 'string' },
  },
};

export async function readModelManifest(path: string): Promise<ModelManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, path);
  }
  const manifest = validateWithSchema<ModelManifest>(modelManifestSchema, parsed, path);
  for (const [role, graph] of Object.entries(manifest.graphs)) {
    for (const value of [...graph.inputs, ...graph.outputs]) {
      if (value.testDims && value.testDims.length !== value.dims.length) {
        throw new UserError(`/graphs/${role}: '${value.name}' has testDims of rank ${value.testDims.length} for dims of rank ${value.dims.length}`, path);
      }
    }
  }
  return manifest;
}

/** The signature `checkSignature` compares a session against. */
export function manifestSignature(graph: ManifestGraph): OnnxSignature {
  const strip = ({ name, type, dims }: ManifestValue): OnnxValueSpec => ({ name, type, dims });
  return { inputs: graph.inputs.map(strip), outputs: graph.outputs.map(strip) };
}
