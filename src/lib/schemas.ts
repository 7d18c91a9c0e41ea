import { Type, type Static, type TSchema } from 'typebox';

/** Shared schema pieces used by several modules' route schemas. */
export const Uuid = Type.String({ format: 'uuid' });

export const IdParams = Type.Object({ id: Uuid });
export const OrganisationParams = Type.Object({ organisationId: Uuid });
export const SiteParams = Type.Object({ siteId: Uuid });

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: 'Stable machine-readable error code (see the error catalogue).' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'ErrorResponse' },
);

/** A closed set of strings, e.g. StringEnum(['sv', 'en']). */
export const StringEnum = <const T extends string[]>(values: readonly [...T], options: { description?: string } = {}) =>
  Type.Enum<T>(values, options);

/**
 * A value or null. A schema with one `type` takes null into it (`['string', 'null']`, `['object', 'null']`; an `enum`
 * gains null too). The response serialiser writes such a value straight, where for a union (`anyOf`) it must run a
 * validator on every value to choose the branch, and compile that validator on a route's first response: some
 * 30 ms of a node's first alarm. A schema with an identity of its own (`$id`, `$ref`) or a `const` stays a union.
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  const { type, enum: values, ...rest } = schema as { type?: unknown; enum?: unknown[] } & Record<string, unknown>;
  const own = rest.$id === undefined && rest.$ref === undefined && rest.const === undefined;
  if (own && typeof type === 'string' && type !== 'null') {
    return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'], ...(values ? { enum: [...values, null] } : {}) });
  }
  if (own && type === undefined && values) return Type.Unsafe<Static<T> | null>({ ...rest, enum: [...values, null] });
  return Type.Unsafe<Static<T> | null>({ anyOf: [schema, { type: 'null' }] });
};

export const Timestamp = Type.String({ format: 'date-time' });

/** The error responses every authenticated route may give, for the OpenAPI reference. */
export const commonErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  503: ErrorResponse,
} as const;

export const NoContent = Type.Null({ description: 'No content' });
