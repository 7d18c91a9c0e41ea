import type { Static, TSchema } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { compileBodyValidator } from '../../plugins/validation.js';

/**
 * Socket payloads are checked against the contract's schemas (src/contract/realtime.ts) with the same
 * validator that checks HTTP bodies, so a field means the same on both channels. Bad payloads get an
 * error ack and change nothing.
 */
export function parser<T extends TSchema>(schema: T): (payload: unknown) => Static<T> {
  const validate = compileBodyValidator(schema);
  return (payload) => {
    if (validate(payload) && wellFormed(payload)) return payload as Static<T>;
    const details = (validate.errors ?? []).slice(0, 10).map((e) => ({ path: e.instancePath, message: e.message }));
    throw new AppError('validation_failed', undefined, details.length ? details : [{ path: '', message: 'text must be well-formed Unicode' }]);
  };
}

/** Strings PostgreSQL can store as they were sent: no NUL, no lone surrogate (which would become U+FFFD). */
function wellFormed(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const next = stack.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000') || !next.isWellFormed()) return false;
    } else if (next && typeof next === 'object') {
      for (const [key, child] of Object.entries(next)) {
        if (!key.isWellFormed()) return false;
        stack.push(child);
      }
    }
  }
  return true;
}

/** Every device of a person is in their room; events reach people through it, on every node. */
export const personRoom = (personId: string): string => `person:${personId}`;
/** One session's devices: what a sign-out closes. */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;
