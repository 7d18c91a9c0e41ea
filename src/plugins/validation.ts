import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const COMMON: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

/**
 * Request validation. URL parts (params, querystring, headers) arrive as strings and are coerced
 * to the schema's types; a JSON body is taken exactly as sent, so `{ "address": 12 }` is refused
 * rather than quietly stored as "12".
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const coercing = addFormats(new Ajv({ ...COMMON, coerceTypes: 'array' }));
  const strict = addFormats(new Ajv({ ...COMMON, coerceTypes: false }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}

const bodyValidator = addFormats(new Ajv({ ...COMMON, coerceTypes: false }));

/** The HTTP body rules for payloads that arrive another way (socket events): taken exactly as sent. */
export const compileBodyValidator = (schema: object) => bodyValidator.compile(schema);
