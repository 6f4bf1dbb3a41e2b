/**
 * The values that flow between plugins: plain typed arrays with shapes, independent of any compute engine.
 * Each plugin converts to TensorFlow.js / ONNX Runtime tensors itself when it needs to.
 */

/** A dense row-major float32 matrix: `rows` items × `cols` features. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** A batch of images, row-major HWC per image, values in [0, 1]. */
export interface ImageBatch {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Float32Array;
}

export function matrix(rows: number, cols: number, data?: Float32Array | number[]): Matrix {
  const values = data === undefined ? new Float32Array(rows * cols) : Float32Array.from(data);
  if (values.length !== rows * cols) {
    throw new RangeError(`matrix ${rows}×${cols} needs ${rows * cols} values, got ${values.length}`);
  }
  return { rows, cols, data: values };
}

/** Row `i` as a view (no copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Rows selected by index, copied into a new matrix. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let k = 0; k < indices.length; k++) out.set(row(m, indices[k]!), k * m.cols);
  return { rows: indices.length, cols: m.cols, data: out };
}

/** Columns selected by index, copied into a new matrix. */
export function takeCols(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(m.rows * indices.length);
  for (let i = 0; i < m.rows; i++) {
    const src = i * m.cols;
    const dst = i * indices.length;
    for (let k = 0; k < indices.length; k++) out[dst + k] = m.data[src + indices[k]!]!;
  }
  return { rows: m.rows, cols: indices.length, data: out };
}

/** Views a batch of images as a matrix with one flattened image per row (no copy). */
export function imagesAsMatrix(images: ImageBatch): Matrix {
  return { rows: images.count, cols: images.height * images.width * images.channels, data: images.data };
}

/** Views a matrix with one flattened HWC image per row as an image batch (no copy). */
export function matrixAsImages(m: Matrix, height: number, width: number, channels: number): ImageBatch {
  if (m.cols !== height * width * channels) {
    throw new RangeError(`a row of ${m.cols} values is not a ${height}×${width}×${channels} image`);
  }
  return { count: m.rows, height, width, channels, data: m.data };
}

/** Images `start` … `start + count − 1` of a batch (a view, no copy). */
export function sliceImages(images: ImageBatch, start: number, count: number): ImageBatch {
  const size = images.height * images.width * images.channels;
  return { ...images, count, data: images.data.subarray(start * size, (start + count) * size) };
}

/** Images selected by index, copied. */
export function takeImages(images: ImageBatch, indices: ArrayLike<number>): ImageBatch {
  const taken = takeRows(imagesAsMatrix(images), indices);
  return { ...images, count: indices.length, data: taken.data };
}
