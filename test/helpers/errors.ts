/** Awaits a promise (or calls a function) that must fail with a UserError, and returns that error. */
import { expect } from 'vitest';
import { isUserError } from '../../core/errors.js';

export async function userErrorOf(promise: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(isUserError(error), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a UserError');
}
