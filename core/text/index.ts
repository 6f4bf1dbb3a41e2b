/** Text tokenisation for the generators' text encoders. */
export * from './clip-tokenizer.js';
