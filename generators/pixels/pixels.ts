/**
 * Direct pixel decoding: the mapper predicts every pixel value (flattened HWC) and the prediction, clipped to
 * [0, 1], is the reconstruction. The classic baseline of linear image reconstruction.
 */
import type { FittedGenerator, Generator, StimulusBatch, TargetSpace } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { PIXELS_SPACE } from './schema.js';

const SPACE = PIXELS_SPACE;
const WHERE = 'generator pixels';

export class PixelsGenerator implements Generator {
  /** Learns only the image shape. */
  async fit(train: StimulusBatch): Promise<FittedPixels> {
    const { height, width, channels } = train.images;
    return new FittedPixels([height, width, channels]);
  }
}

export class FittedPixels implements FittedGenerator {
  constructor(readonly shape: [height: number, width: number, channels: number]) {}

  private get dims(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  targets(): TargetSpace[] {
    return [{ name: SPACE, dims: this.dims }];
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    const { images } = stimuli;
    const [height, width, channels] = this.shape;
    if (images.height !== height || images.width !== width || images.channels !== channels) {
      throw new UserError(
        `images are ${images.height}×${images.width}×${images.channels}, but the generator was fitted on ` +
          `${height}×${width}×${channels}`,
        WHERE,
      );
    }
    // A copy: targets outlive the stimulus batch and may be modified by the mapper's preprocessing.
    return { [SPACE]: { rows: images.count, cols: this.dims, data: Float32Array.from(images.data) } };
  }

  async generate(predicted: Record<string, Matrix>): Promise<ImageBatch> {
    const values = predicted[SPACE];
    if (values === undefined) {
      throw new UserError(`needs predicted '${SPACE}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
    }
    if (values.cols !== this.dims) {
      throw new UserError(`predicted '${SPACE}' targets have ${values.cols} columns, expected ${this.dims}`, WHERE);
    }
    const out = new Float32Array(values.data.length);
    for (let i = 0; i < out.length; i++) {
      const value = values.data[i]!;
      if (!Number.isFinite(value)) {
        throw new UserError(`predicted '${SPACE}' targets contain a non-finite value (row ${Math.floor(i / this.dims)})`, WHERE);
      }
      out[i] = value < 0 ? 0 : value > 1 ? 1 : value;
    }
    const [height, width, channels] = this.shape;
    return { count: values.rows, height, width, channels, data: out };
  }
}
