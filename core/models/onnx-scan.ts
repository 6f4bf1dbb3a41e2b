/**
 * Reads just enough of an .onnx file's protobuf wire format to list the external-data files its initializers
 * reference, before ONNX Runtime sees it: ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto
 * external_data (13, {key 1, value 2}) and data_location (14). Every other field, raw_data included, is skipped
 * by its length without being read, so a 500 MB graph costs a few reads. A file that ends inside a field is
 * reported as truncated (ORT's own message for that is an opaque protobuf error). Exporters put external data
 * only on top-level initializers (torch.onnx, onnx.save_model, optimum); tensors inside node attributes, sparse
 * initializers and sub-graphs are not scanned, and ORT's own error still names the file for those.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { UserError } from '../errors.js';

export interface ExternalDataRef {
  /** Initializer (tensor) name. */
  tensor: string;
  /** `location` as written in the model: relative to the model's folder. */
  location: string;
  /** Absolute path of the data file. */
  path: string;
  offset: number;
  /** Byte length when the model says (exporters always do). */
  length?: number;
}

export interface OnnxScan {
  /** Every external reference, one per initializer stored outside the .onnx. */
  external: ExternalDataRef[];
  /** The distinct external files (absolute paths), in first-use order. */
  files: string[];
}

const CHUNK = 64 * 1024;

class Truncated extends Error {}
class Malformed extends Error {}

/** Random-access bytes of a file through one cached chunk. */
class FileBytes {
  private chunk = new Uint8Array(0);
  private chunkStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async byte(at: number): Promise<number> {
    if (at >= this.size) throw new Truncated();
    if (at < this.chunkStart || at >= this.chunkStart + this.chunk.length) {
      const buffer = new Uint8Array(Math.min(CHUNK, this.size - at));
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, at);
      this.chunk = buffer.subarray(0, bytesRead);
      this.chunkStart = at;
      if (bytesRead === 0) throw new Truncated();
    }
    return this.chunk[at - this.chunkStart]!;
  }

  async bytes(at: number, length: number): Promise<Uint8Array> {
    if (at + length > this.size) throw new Truncated();
    const buffer = new Uint8Array(length);
    await this.handle.read(buffer, 0, length, at);
    return buffer;
  }
}

/** A cursor over one message: [position, end). */
class Reader {
  constructor(
    private readonly file: FileBytes,
    public position: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  async varint(): Promise<number> {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new Truncated();
      const b = await this.file.byte(this.position++);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new Malformed('a varint longer than 10 bytes');
  }

  /** Reads a field's tag; returns its number and wire type. */
  async tag(): Promise<{ field: number; wire: number }> {
    const tag = await this.varint();
    const field = Math.floor(tag / 8);
    if (field === 0) throw new Malformed('field number 0');
    return { field, wire: tag % 8 };
  }

  /** The [start, end) of a length-delimited payload, checked against the enclosing message. */
  async span(): Promise<{ start: number; end: number }> {
    const length = await this.varint();
    const start = this.position;
    if (start + length > this.end) throw new Truncated();
    this.position = start + length;
    return { start, end: start + length };
  }

  sub(span: { start: number; end: number }): Reader {
    return new Reader(this.file, span.start, span.end);
  }

  async text(span: { start: number; end: number }): Promise<string> {
    return new TextDecoder().decode(await this.file.bytes(span.start, span.end - span.start));
  }

  async skip(wire: number): Promise<void> {
    switch (wire) {
      case 0:
        await this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        await this.span();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Malformed(`wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.position + n > this.end) throw new Truncated();
    this.position += n;
  }
}

interface TensorRefs {
  name: string;
  external: Record<string, string>;
  dataLocation: number;
}

async function readTensor(r: Reader): Promise<TensorRefs> {
  const tensor: TensorRefs = { name: '', external: {}, dataLocation: 0 };
  while (!r.done) {
    const { field, wire } = await r.tag();
    if (field === 8 && wire === 2) tensor.name = await r.text(await r.span());
    else if (field === 13 && wire === 2) {
      const entry = r.sub(await r.span());
      let key = '';
      let value = '';
      while (!entry.done) {
        const t = await entry.tag();
        if (t.field === 1 && t.wire === 2) key = await entry.text(await entry.span());
        else if (t.field === 2 && t.wire === 2) value = await entry.text(await entry.span());
        else await entry.skip(t.wire);
      }
      tensor.external[key] = value;
    } else if (field === 14 && wire === 0) tensor.dataLocation = await r.varint();
    else await r.skip(wire);
  }
  return tensor;
}

async function readGraphInitializers(r: Reader): Promise<TensorRefs[]> {
  const tensors: TensorRefs[] = [];
  while (!r.done) {
    const { field, wire } = await r.tag();
    if (field === 5 && wire === 2) tensors.push(await readTensor(r.sub(await r.span())));
    else await r.skip(wire);
  }
  return tensors;
}

function externalRef(modelPath: string, tensor: TensorRefs): ExternalDataRef {
  const location = tensor.external.location;
  const name = tensor.name || '(unnamed)';
  if (!location) throw new UserError(`initializer '${name}' is stored externally but names no location`, modelPath);
  if (isAbsolute(location) || normalize(location).startsWith('..')) {
    throw new UserError(`initializer '${name}': external-data location '${location}' must lie inside the model's folder`, modelPath);
  }
  const offset = Number(tensor.external.offset ?? 0);
  const length = tensor.external.length === undefined ? undefined : Number(tensor.external.length);
  return { tensor: name, location, path: join(dirname(modelPath), location), offset, length };
}

/** Lists the external-data files of an .onnx; throws a UserError naming the file when it is truncated or not protobuf. */
export async function scanOnnxFile(modelPath: string): Promise<OnnxScan> {
  const info = await stat(modelPath).catch(() => undefined);
  if (!info?.isFile()) throw new UserError('ONNX model file not found', modelPath);
  if (info.size === 0) throw new UserError('the ONNX model file is empty (0 bytes): truncated or never written', modelPath);
  const handle = await open(modelPath, 'r');
  try {
    const file = new FileBytes(handle, info.size);
    const model = new Reader(file, 0, info.size);
    const tensors: TensorRefs[] = [];
    let graphs = 0;
    while (!model.done) {
      const { field, wire } = await model.tag();
      if (field === 7 && wire === 2) {
        graphs++;
        tensors.push(...(await readGraphInitializers(model.sub(await model.span()))));
      } else await model.skip(wire);
    }
    if (graphs === 0) throw new UserError('not an ONNX model: the file holds no graph', modelPath);
    const external = tensors.filter((t) => t.dataLocation === 1).map((t) => externalRef(modelPath, t));
    return { external, files: [...new Set(external.map((e) => e.path))] };
  } catch (error) {
    if (error instanceof Truncated) {
      throw new UserError(`the ONNX file is truncated: its protobuf ends in the middle of a field (${info.size} bytes); copy or export it again`, modelPath);
    }
    if (error instanceof Malformed) throw new UserError(`not an ONNX model: invalid protobuf (${error.message})`, modelPath);
    throw error;
  } finally {
    await handle.close();
  }
}

/** Checks every external-data file exists and is long enough for the tensors stored in it. */
export async function checkExternalData(modelPath: string, scan: OnnxScan): Promise<void> {
  const sizes = new Map<string, number | undefined>();
  for (const file of scan.files) sizes.set(file, (await stat(file).catch(() => undefined))?.size);
  for (const ref of scan.external) {
    const size = sizes.get(ref.path);
    if (size === undefined) {
      throw new UserError(
        `external-data file '${ref.location}' (weights of '${ref.tensor}') is missing: expected ${ref.path}; ` +
          'copy it next to the .onnx, as the exporter wrote it',
        modelPath,
      );
    }
    if (ref.length !== undefined && ref.offset + ref.length > size) {
      throw new UserError(
        `external-data file '${ref.location}' is truncated: '${ref.tensor}' needs bytes up to ${ref.offset + ref.length}, the file has ${size}`,
        modelPath,
      );
    }
  }
}
