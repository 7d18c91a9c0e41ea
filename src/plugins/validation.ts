import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const COMMON: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

/** How a number is written in a URL: plain decimal. Ajv's coercion would also take `0x10`, `1e3`, ` 16` and `''` (as 0). */
const DECIMAL = { integer: /^-?(0|[1-9][0-9]*)$/, number: /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/ } as const;

type NumericKind = keyof typeof DECIMAL;

/** The top-level properties of an object schema that are numbers (URL parts are flat objects). */
function numericProperties(schema: object): [string, NumericKind][] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties).flatMap(([name, property]): [string, NumericKind][] =>
    property.type === 'integer' || property.type === 'number' ? [[name, property.type]] : []);
}

/**
 * A validator for URL parts that refuses numbers not written as plain decimals before Ajv coerces
 * the rest, so `?limit=0x10` is bad input rather than 16.
 */
function strictDecimals(validate: ValidateFunction, numeric: [string, NumericKind][]): ValidateFunction {
  const check = ((data: unknown) => {
    const values = (data ?? {}) as Record<string, unknown>;
    // A repeated parameter arrives as an array, which Ajv's array coercion unwraps when it has one element.
    const written = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
    const errors: ErrorObject[] = numeric
      .filter(([name, kind]) => written(values[name]).some((v) => typeof v === 'string' && !DECIMAL[kind].test(v)))
      .map(([name, kind]) => ({
        instancePath: `/${name}`, schemaPath: '#/strictDecimal', keyword: 'type', params: { type: kind },
        message: `must be ${kind === 'integer' ? 'an integer' : 'a number'} written in decimal digits`,
      }));
    if (errors.length) {
      check.errors = errors;
      return false;
    }
    const valid = validate(data);
    check.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  return check;
}

/**
 * Request validation. URL parts (params, querystring, headers) arrive as strings and are coerced
 * to the schema's types, numbers only from plain decimals; a JSON body is taken exactly as sent, so
 * `{ "address": 12 }` is refused rather than quietly stored as "12".
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const coercing = addFormats(new Ajv({ ...COMMON, coerceTypes: 'array' }));
  const strict = addFormats(new Ajv({ ...COMMON, coerceTypes: false }));
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return strict.compile(schema as object);
    const validate = coercing.compile(schema as object);
    const numeric = numericProperties(schema as object);
    return numeric.length ? strictDecimals(validate, numeric) : validate;
  };
}

const bodyValidator = addFormats(new Ajv({ ...COMMON, coerceTypes: false }));

/** The HTTP body rules for payloads that arrive another way (socket events): taken exactly as sent. */
export const compileBodyValidator = (schema: object) => bodyValidator.compile(schema);
