import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The one configuration schema. Every variable is read from the environment here and nowhere
 * else; behaviour is never switched on NODE_ENV. README.md's configuration table mirrors this file.
 */
export const ConfigSchema = Type.Object({
  /** Interface the HTTP server binds to. */
  HOST: Type.String({ default: '0.0.0.0' }),
  /** TCP port of the HTTP server (API, web app, Socket.IO). */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /** PostgreSQL connection string. Unset: an embedded PostgreSQL is started in EMBEDDED_PG_DIR. */
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** Maximum connections in this node's pool. */
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  /** How long to wait for a pool connection before failing (the pg default waits forever). */
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 3000 }),
  /** Server-side statement timeout for every pooled connection. */
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10000 }),
  /** Data folder of the embedded PostgreSQL (kept between runs). Only used without DATABASE_URL. */
  EMBEDDED_PG_DIR: Type.String({ default: 'data/postgres' }),
  /** Port of the embedded PostgreSQL. Only used without DATABASE_URL. */
  EMBEDDED_PG_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 54329 }),
  /** Apply pending migrations at start-up (safe with several nodes: an advisory lock serialises them). */
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  /** Seed the demo organisations: "auto" seeds an empty database on the embedded default only. */
  SEED_DEMO: Type.Enum(['auto', 'true', 'false'], { default: 'auto' }),
  /** Redis connection string. Unset: a single node, fan-out in-process. */
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** Prefix of every Redis key this deployment writes, so several deployments (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: Type.String({ default: 'samlarm:', pattern: '^[A-Za-z0-9:_-]{1,50}$' }),
  /** Fastify trustProxy: "false", "true", a hop count, or a comma-separated list of proxy addresses/CIDRs. Needed behind a proxy so rate limits see client addresses. */
  TRUST_PROXY: Type.String({ default: 'false' }),
  /** Lifetime of a browser session (days, sliding: renewed on use). */
  SESSION_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** Lifetime of a device session (phones and installed apps; days, sliding). Staff must still be signed in when the emergency comes. */
  DEVICE_SESSION_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 365 }),
  /** Failed sign-ins for one e-mail address within LOGIN_LOCKOUT_MINUTES that lock it. */
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  /** Window and duration of an account lockout, in minutes. */
  LOGIN_LOCKOUT_MINUTES: Type.Integer({ minimum: 1, default: 15 }),
  /** Sign-in requests allowed per client address per minute. */
  LOGIN_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 30 }),
  /** Presses of the same alarm type at the same site within this many seconds of the last press join silently; a later press alerts everyone again. */
  ALARM_JOIN_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 86400, default: 120 }),
  /** On shutdown, how long the node keeps answering (readiness failing, devices moved away) before it stops listening, so a load balancer notices first. */
  SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 1000 }),
  /** How long shutdown may take in all before the process exits anyway. */
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10000 }),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(ConfigSchema.properties);
  const raw: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const candidate = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  if (Value.Check(ConfigSchema, candidate)) return candidate;
  const problems = Value.Errors(ConfigSchema, candidate).map(
    (e) => `${e.instancePath.slice(1) || '(root)'}: ${e.message}`,
  );
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** Translates TRUST_PROXY into what Fastify's trustProxy option accepts. */
export function trustProxySetting(value: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
