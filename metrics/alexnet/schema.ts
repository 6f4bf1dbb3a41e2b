/** Options of the AlexNet metrics (`alexnet-2`, `alexnet-5`, `lpips`). */
export interface AlexNetOptions {
  /** A configured model name or a model folder (neurodecode layout, written by export.py). */
  model: string;
  /** Whose preprocessing: Brain-Diffuser (PIL bilinear to 224) or MindEye (tensor bilinear to 256). */
  convention: 'brain-diffuser' | 'mindeye';
}

export const alexNetOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', default: 'alexnet', description: 'model name (neurodecode.config.json "models") or folder' },
    convention: { type: 'string', enum: ['brain-diffuser', 'mindeye'], default: 'brain-diffuser', description: "whose preprocessing" },
  },
} as const;
