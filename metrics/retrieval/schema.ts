/** Options of the `retrieval-forward` and `retrieval-backward` metrics (MindEye's protocol). */
export interface RetrievalOptions {
  /** Candidates per batch (300 in MindEye); all items form one batch when there are no more than this. */
  batchSize: number;
  /** Random batches drawn (30 in MindEye). */
  batches: number;
}

export const retrievalOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    batchSize: { type: 'integer', minimum: 2, default: 300, description: 'candidates per batch (n-way)' },
    batches: { type: 'integer', minimum: 1, default: 30, description: 'random batches drawn when items exceed batchSize' },
  },
} as const;
