import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AppError } from '../../lib/errors.js';

/**
 * The socket protocol's payload schemas (docs/realtime.md describes the whole protocol). Every
 * client-to-server event is checked here; bad payloads get an error ack and change nothing.
 */
const Uuid = Type.String({ format: 'uuid' });
// PostgreSQL text cannot hold NUL: refused here as bad input rather than failing in the database.
const Text = (maxLength: number) => Type.Union([Type.String({ maxLength, pattern: '^[^\\u0000]*$' }), Type.Null()]);
export const Cursor = Type.String({ pattern: '^[0-9]{1,18}$' });

export const Handshake = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  deviceId: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' }),
  cursor: Type.Optional(Type.Union([Cursor, Type.Null()])),
});

export const SyncRequest = Type.Object({ cursor: Type.Union([Cursor, Type.Null()]) }, { additionalProperties: false });

export const ReceiptRequest = Type.Object({
  incidentId: Uuid,
  kind: Type.Enum(['delivered', 'acknowledged']),
}, { additionalProperties: false });

export const RaiseRequest = Type.Object({
  pressId: Uuid,
  siteId: Uuid,
  alarmTypeId: Uuid,
  location: Type.Optional(Text(200)),
  message: Type.Optional(Text(1000)),
  drill: Type.Optional(Type.Boolean()),
  confirmContradiction: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/** Checks a payload against its schema; throws validation_failed naming the problems. */
export function parse<T extends TSchema>(schema: T, payload: unknown): Static<T> {
  if (Value.Check(schema, payload)) return payload as Static<T>;
  const details = Value.Errors(schema, payload).slice(0, 10).map((e) => ({ path: e.instancePath, message: e.message }));
  throw new AppError('validation_failed', undefined, details);
}

/** The shape of every ack: the result, or the same error body the HTTP API gives. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: unknown } };
