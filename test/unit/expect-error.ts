/** Small helpers for asserting isolate's errors in unit tests. */
import { expect } from 'vitest';
import { IsolateError, type ErrorCode } from '../../src/errors.js';

/** Run `fn`, expect it to throw an IsolateError with `code`, and return the error. */
export function expectIsolateError(fn: () => unknown, code: ErrorCode): IsolateError {
  let thrown: unknown;
  try {
    fn();
  } catch (e: unknown) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected an IsolateError ${code}, but nothing was thrown`);
  expect(thrown).toBeInstanceOf(IsolateError);
  const err = thrown as IsolateError;
  expect(err.code, `wrong code; message: ${err.message}`).toBe(code);
  return err;
}

/** Await `promise`, expect it to reject with an IsolateError with `code`, and return the error. */
export async function expectIsolateRejection(promise: Promise<unknown>, code: ErrorCode): Promise<IsolateError> {
  let thrown: unknown;
  let resolved = false;
  try {
    await promise;
    resolved = true;
  } catch (e: unknown) {
    thrown = e;
  }
  if (resolved) throw new Error(`expected an IsolateError ${code}, but the promise resolved`);
  expect(thrown).toBeInstanceOf(IsolateError);
  const err = thrown as IsolateError;
  expect(err.code, `wrong code; message: ${err.message}`).toBe(code);
  return err;
}
