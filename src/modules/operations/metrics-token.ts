import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares the token sent for /metrics with METRICS_TOKEN in constant time (hashed first, so lengths leak nothing either). */
export function metricsTokenMatches(sent: string | null, expected: string): boolean {
  return sent !== null && timingSafeEqual(digest(sent), digest(expected));
}
