/** Options of `inception` (two-way identification) and `n-way` (Mind Reader's n-way identification). */
import { correlationDistanceSchema, type CorrelationDistanceOptions } from '../common/correlation-distance-metric.js';
import { MINDEYE_SIZES } from '../../core/vision/index.js';
import { INCEPTION_MODEL } from './requirement.js';

export type InceptionOptions = CorrelationDistanceOptions;

export interface NWayOptions extends InceptionOptions {
  /** Candidates per trial, the own image included. */
  n: number;
  /** Trials per reconstruction, each with a fresh draw of the n − 1 others. */
  repeats: number;
}

export const inceptionOptionsSchema = correlationDistanceSchema(INCEPTION_MODEL, MINDEYE_SIZES.inception);

export const nWayOptionsSchema = {
  ...inceptionOptionsSchema,
  properties: {
    ...inceptionOptionsSchema.properties,
    n: { type: 'integer', minimum: 2, default: 50, description: 'candidates per trial, own image included (Mind Reader reports 2 to 100)' },
    repeats: { type: 'integer', minimum: 1, default: 10, description: 'trials per reconstruction, fresh distractors each (Mind Reader: 10)' },
  },
} as const;
