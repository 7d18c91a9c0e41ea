import { Type, type TSchema } from 'typebox';

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

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

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
