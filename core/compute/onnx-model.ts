/**
 * A minimal ONNX model writer (protobuf wire format by hand, ~the fields ONNX Runtime needs). Core uses it to
 * build small compute graphs (e.g. one MatMul) at run time, and tests use it to make tiny models with the real
 * input/output signatures of the networks users point to.
 */

export type OnnxElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8';
const ELEMENT_TYPE: Record<OnnxElementType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, float64: 11 };

/** A dimension: a fixed size, or a symbolic name for a size known only at run time. */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  dims: OnnxDim[];
}

export type OnnxAttribute = number | number[] | string | { float: number } | { floats: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Integers (and integer lists) become INT/INTS; wrap floats as `{ float }` / `{ floats }`. */
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;
  /** Store the values in the external-data file instead of the .onnx (see `encodeOnnxModelWithExternalData`). */
  external?: boolean;
}

/** Where an external initializer's bytes lie in the external-data file. */
interface ExternalPlacement {
  location: string;
  offset: number;
}

export interface OnnxGraph {
  name?: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers?: OnnxInitializer[];
  opset?: number;
}

/** Protobuf message builder: fields are appended in call order. */
class Message {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  private tag(field: number, wireType: number): void {
    this.push(varint(BigInt((field << 3) | wireType)));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.push(varint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.push(varint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}

function varint(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Uint8Array.from(bytes);
}

function valueInfo(info: OnnxValueInfo): Message {
  const shape = new Message();
  for (const d of info.dims) {
    shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  }
  const tensorType = new Message().int(1, ELEMENT_TYPE[info.type]).message(2, shape);
  return new Message().string(1, info.name).message(2, new Message().message(1, tensorType));
}

function attribute(name: string, value: OnnxAttribute): Message {
  const m = new Message().string(1, name);
  if (typeof value === 'number') return m.int(3, value).int(20, 2);
  if (typeof value === 'string') return m.string(4, value).int(20, 3);
  if (Array.isArray(value)) {
    for (const v of value) m.int(8, v);
    return m.int(20, 7);
  }
  if ('float' in value) return m.float(2, value.float).int(20, 1);
  for (const v of value.floats) m.float(7, v);
  return m.int(20, 6);
}

function initializer(init: OnnxInitializer, placement?: ExternalPlacement): Message {
  const type: OnnxElementType =
    init.data instanceof Float32Array ? 'float32'
    : init.data instanceof Float64Array ? 'float64'
    : init.data instanceof Int32Array ? 'int32'
    : init.data instanceof BigInt64Array ? 'int64'
    : 'uint8';
  const m = new Message();
  for (const d of init.dims) m.int(1, d);
  m.int(2, ELEMENT_TYPE[type]).string(8, init.name);
  if (!placement) return m.bytes(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
  // TensorProto.external_data (13): location/offset/length entries; data_location (14) = EXTERNAL.
  const entry = (key: string, value: string) => new Message().string(1, key).string(2, value);
  m.message(13, entry('location', placement.location));
  m.message(13, entry('offset', String(placement.offset)));
  m.message(13, entry('length', String(init.data.byteLength)));
  return m.int(14, 1);
}

/** Serialises a graph as an ONNX ModelProto (IR version 8, default opset 17), every initializer inside it. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  if (graph.initializers?.some((i) => i.external)) {
    throw new Error('internal: external initializers need encodeOnnxModelWithExternalData');
  }
  return encodeModel(graph, new Map());
}

/**
 * Serialises a graph whose `external` initializers go to a separate data file, as exporters do for models over
 * 2 GB (ONNX's external-data format). Write `data` next to the model as `location`; ONNX Runtime finds it there
 * when the model is opened from its path.
 */
export function encodeOnnxModelWithExternalData(graph: OnnxGraph, location: string): { model: Uint8Array; data: Uint8Array } {
  const placements = new Map<OnnxInitializer, ExternalPlacement>();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of graph.initializers ?? []) {
    if (!init.external) continue;
    placements.set(init, { location, offset });
    chunks.push(new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
    offset += init.data.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return { model: encodeModel(graph, placements), data };
}

function encodeModel(graph: OnnxGraph, placements: Map<OnnxInitializer, ExternalPlacement>): Uint8Array {
  const g = new Message();
  graph.nodes.forEach((node, index) => {
    const n = new Message();
    for (const i of node.inputs) n.string(1, i);
    for (const o of node.outputs) n.string(2, o);
    n.string(3, node.name ?? `${node.op}_${index}`).string(4, node.op);
    for (const [name, value] of Object.entries(node.attributes ?? {})) n.message(5, attribute(name, value));
    if (node.domain) n.string(7, node.domain);
    g.message(1, n);
  });
  g.string(2, graph.name ?? 'graph');
  for (const init of graph.initializers ?? []) g.message(5, initializer(init, placements.get(init)));
  for (const input of graph.inputs) g.message(11, valueInfo(input));
  for (const output of graph.outputs) g.message(12, valueInfo(output));
  return new Message()
    .int(1, 8)
    .string(2, 'neurodecode')
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, graph.opset ?? 17))
    .finish();
}
