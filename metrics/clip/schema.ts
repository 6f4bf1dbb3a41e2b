/** Options of the `clip` metric. */
export interface ClipOptions {
  /** A configured model name or a transformers.js CLIP folder (onnx/vision_model.onnx with `image_embeds`). */
  model: string;
  /** Whose preprocessing: Brain-Diffuser (PIL bilinear to 224) or MindEye (tensor bilinear to 224); CLIP mean/std. */
  convention: 'brain-diffuser' | 'mindeye';
}

export const clipOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', default: 'clip-vit-large-patch14', description: 'model name (neurodecode.config.json "models") or folder' },
    convention: { type: 'string', enum: ['brain-diffuser', 'mindeye'], default: 'brain-diffuser', description: 'whose preprocessing' },
  },
} as const;
