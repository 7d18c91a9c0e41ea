import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sl_';

/** An opaque bearer token; only its hash is stored, so a database leak yields no usable session. */
export function newSessionToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function looksLikeSessionToken(value: string): boolean {
  return value.startsWith(PREFIX) && value.length > PREFIX.length + 40 && value.length < 100;
}
