import type { AidocError } from '@aidoc/core';
import { rejectionOf } from '@aidoc/core/testing';
import { expect } from 'vitest';

/** Awaits the AidocError `promise` rejects with and checks its code (and message, when given). */
export async function expectAidocError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<AidocError> {
  const error = await rejectionOf(promise);
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}
