import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `header` is `Bearer <key>`. Both sides are hashed first, so the comparison runs over
 * equal-length buffers in constant time and neither the key's length nor its prefix leaks.
 */
export function isAuthorized(header: string | undefined, key: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const presented = digest(match?.[1] ?? '');
  // Always compare, even without a token, so a missing header costs the same as a wrong one.
  return timingSafeEqual(presented, digest(key)) && match !== null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
