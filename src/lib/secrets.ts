import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares a token sent by a caller with the configured one in constant time (hashed first, so lengths leak nothing either). */
export function secretMatches(sent: string | null, expected: string): boolean {
  return sent !== null && timingSafeEqual(digest(sent), digest(expected));
}
