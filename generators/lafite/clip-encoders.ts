/**
 * CLIP ViT-B/32's two encoders from a transformers.js folder (CLIPVisionModelWithProjection's `image_embeds`,
 * CLIPTextModelWithProjection's `text_embeds`: OpenAI CLIP's `encode_image` / `encode_text`, not normalised), fed as
 * each export wants: names and element types are read from the sessions; the text graph may also take an
 * `attention_mask` (ones up to and including <|endoftext|>: with CLIP's causal mask the pooled token is the same).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../../core/errors.js';
import type { RasterImage } from '../../core/io/image.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { ModelStore } from '../../core/models/store.js';
import { CLIP_EOS, loadClipTokenizer, type ClipTokenizer } from '../../core/text/clip-tokenizer.js';
import { CLIP_SIZE, clipInputRaster, pixelValues } from './clip-input.js';
import { CLIP_WIDTH, type ImageInput } from './schema.js';

type TensorMetadata = Extract<InferenceSession['inputMetadata'][number], { isTensor: true }>;

export interface ClipEncoders {
  /** One line for the log: the folder's graphs and tokenizer as read. */
  readonly description: string;
  /** encode_image of one stimulus (512 values), its input prepared by `imageInput`. */
  image(raster: RasterImage): Promise<Float32Array>;
  /** encode_text of each caption: captions.length × 512, row-major. */
  text(captions: readonly string[]): Promise<Float32Array>;
}

const tensors = (list: InferenceSession['inputMetadata']): TensorMetadata[] => list.filter((m): m is TensorMetadata => m.isTensor);
const describe = (list: readonly TensorMetadata[]) => list.map((m) => `${m.name} ${m.type} [${m.shape.join(', ')}]`).join(', ') || 'none';

function output(session: InferenceSession, name: string, file: string, what: string): TensorMetadata {
  const found = tensors(session.outputMetadata).find((m) => m.name === name);
  if (!found) throw new UserError(`expected an output '${name}' (${what}); the graph has ${describe(tensors(session.outputMetadata))}`, file);
  const width = found.shape[found.shape.length - 1];
  if (typeof width === 'number' && width !== CLIP_WIDTH) {
    throw new UserError(`'${name}' is ${width} wide; Mind Reader's embeddings are CLIP ViT-B/32's ${CLIP_WIDTH} (is this another CLIP, e.g. ViT-L/14's 768?)`, file);
  }
  return found;
}

/** Checks an embedding that came out of a graph: [batch, 512], finite. */
function embeddings(tensor: Tensor, name: string, batch: number, file: string): Float32Array {
  if (tensor.type !== 'float32') throw new UserError(`'${name}' came out ${tensor.type}; expected float32`, file);
  if (tensor.dims.length !== 2 || tensor.dims[0] !== batch || tensor.dims[1] !== CLIP_WIDTH) {
    throw new UserError(`'${name}' came out [${tensor.dims.join(', ')}]; expected [${batch}, ${CLIP_WIDTH}] (CLIP ViT-B/32)`, file);
  }
  const data = tensor.data as Float32Array;
  if (!data.every(Number.isFinite)) throw new UserError(`'${name}' holds non-finite values`, file);
  return data;
}

export async function openClipEncoders(models: ModelStore, folder: ModelFolder, imageInput: ImageInput): Promise<ClipEncoders> {
  const ort = await import('onnxruntime-node');
  const visionGraph = folder.graphs.vision;
  const textGraph = folder.graphs.text;
  if (!visionGraph || !textGraph) {
    throw new UserError(`a CLIP folder for the targets needs onnx/vision_model.onnx and onnx/text_model.onnx (it has ${Object.keys(folder.graphs).join(', ')})`, folder.dir);
  }
  const vision = await models.session(visionGraph);
  const text = await models.session(textGraph);
  const tokenizer: ClipTokenizer = await loadClipTokenizer(folder.dir);

  const pixels = tensors(vision.inputMetadata).find((m) => m.name === 'pixel_values');
  if (!pixels || vision.inputNames.length !== 1) {
    throw new UserError(`expected one input 'pixel_values'; the graph has ${describe(tensors(vision.inputMetadata))}`, visionGraph.file);
  }
  const imageOut = output(vision, 'image_embeds', visionGraph.file, 'a CLIPVisionModelWithProjection export');

  const textInputs = tensors(text.inputMetadata);
  const ids = textInputs.find((m) => m.name === 'input_ids');
  const mask = textInputs.find((m) => m.name === 'attention_mask');
  const others = textInputs.filter((m) => m !== ids && m !== mask);
  if (!ids || others.length > 0) throw new UserError(`expected the input 'input_ids' (and optionally 'attention_mask'); the graph has ${describe(textInputs)}`, textGraph.file);
  for (const m of [ids, mask]) {
    if (m && m.type !== 'int64' && m.type !== 'int32') throw new UserError(`'${m.name}' must be int64 or int32, found ${m.type}`, textGraph.file);
  }
  const textOut = output(text, 'text_embeds', textGraph.file, 'a CLIPTextModelWithProjection export');

  const integers = (type: string, values: Int32Array, dims: number[]): Tensor =>
    type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims) : new ort.Tensor('int32', values, dims);

  return {
    description: `CLIP ${folder.dir}: vision ${imageInput} input → image_embeds; text ${ids.type} ids${mask ? ' + attention_mask' : ''} → text_embeds; ${tokenizer.description}`,
    async image(raster) {
      const input = pixelValues(await clipInputRaster(raster, imageInput));
      const result = await vision.run({ [pixels.name]: new ort.Tensor('float32', input, [1, 3, CLIP_SIZE, CLIP_SIZE]) }, [imageOut.name]);
      return embeddings(result[imageOut.name]!, imageOut.name, 1, visionGraph.file).slice();
    },
    async text(captions) {
      const rows = tokenizer.encodeBatch(captions);
      const n = captions.length;
      const length = tokenizer.contextLength;
      const feeds: Record<string, Tensor> = { [ids.name]: integers(ids.type, rows, [n, length]) };
      if (mask) {
        const ones = new Int32Array(rows.length);
        for (let k = 0; k < n; k++) {
          // Up to and including the first <|endoftext|> (padding may repeat it).
          const end = rows.subarray(k * length, (k + 1) * length).indexOf(CLIP_EOS, 1);
          ones.fill(1, k * length, k * length + (end < 0 ? length : end + 1));
        }
        feeds[mask.name] = integers(mask.type, ones, [n, length]);
      }
      const result = await text.run(feeds, [textOut.name]);
      return embeddings(result[textOut.name]!, textOut.name, n, textGraph.file).slice();
    },
  };
}
