import fp from 'fastify-plugin';
import secureJson from 'secure-json-parse';
import { AppError } from '../lib/errors.js';

/** True when any string (value or key) in a parsed JSON value contains a NUL, which PostgreSQL text cannot store. */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}

/**
 * JSON bodies: parsed with prototype-poisoning protection (as Fastify's own parser), an empty body
 * is no body, and a NUL anywhere is refused as bad input instead of failing in the database.
 */
export default fp(async (app) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new AppError('invalid_json'), undefined);
    }
    if (containsNul(parsed)) return done(new AppError('validation_failed', { sv: 'Texten får inte innehålla NUL-tecken.', en: 'Text may not contain NUL characters.' }), undefined);
    return done(null, parsed);
  });
}, { name: 'json-body' });
