import fp from 'fastify-plugin';
import secureJson from 'secure-json-parse';
import { AppError, type Bilingual } from '../lib/errors.js';

/** Far deeper than any body of ours (they nest 3 deep); a cap that keeps every later walk over a body shallow. */
const MAX_JSON_DEPTH = 32;

/**
 * How deeply arrays and objects nest in JSON text, counted in one pass without parsing (so a 20 KB
 * body of 10,000 nested arrays is refused before anything recurses over it). Brackets inside strings
 * do not count. Stops counting at `limit + 1`.
 */
function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** A UTF-16 surrogate without its partner: JSON's `\ud800` escape allows it, but it is no character (PostgreSQL would store U+FFFD). */
const LONE_SURROGATE = /\p{Cs}/u;

type TextProblem = 'nul' | 'lone_surrogate';

function textProblem(s: string): TextProblem | null {
  if (s.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(s)) return 'lone_surrogate';
  return null;
}

/** The first string (value or key) in a parsed JSON value that PostgreSQL text cannot store as sent. Iterative: no stack to overflow. */
function firstTextProblem(root: unknown): TextProblem | null {
  const pending: unknown[] = [root];
  while (pending.length) {
    const value = pending.pop();
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return problem;
    } else if (Array.isArray(value)) {
      pending.push(...value);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        const problem = textProblem(key);
        if (problem) return problem;
        pending.push(inner);
      }
    }
  }
  return null;
}

const TEXT_MESSAGES: Record<TextProblem, Bilingual> = {
  nul: { sv: 'Texten får inte innehålla NUL-tecken.', en: 'Text may not contain NUL characters.' },
  lone_surrogate: {
    sv: 'Texten får inte innehålla ensamma UTF-16-surrogat (\\ud800–\\udfff utan partner).',
    en: 'Text may not contain unpaired UTF-16 surrogates (\\ud800–\\udfff without a partner).',
  },
};

/**
 * JSON bodies: parsed with prototype-poisoning protection (as Fastify's own parser), an empty body
 * is no body, nesting deeper than MAX_JSON_DEPTH is refused before parsing, and text PostgreSQL
 * cannot store as sent (a NUL, a lone surrogate) is refused as bad input instead of failing in the
 * database or being stored as U+FFFD.
 */
export default fp(async (app) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepth(text) > MAX_JSON_DEPTH) return done(new AppError('json_too_deep'), undefined);
    let parsed: unknown;
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new AppError('invalid_json'), undefined);
    }
    const problem = firstTextProblem(parsed);
    if (problem) return done(new AppError('validation_failed', TEXT_MESSAGES[problem]), undefined);
    return done(null, parsed);
  });
}, { name: 'json-body' });
