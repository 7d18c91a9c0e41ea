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
  /**
   * Connections the kernel holds for the server until it accepts them (capped by net.core.somaxconn). When a node
   * dies, its devices all come to the others at once; past this queue the kernel drops them, and each comes back
   * only when its TCP retries (after 1, 3, 7, 15 s).
   */
  LISTEN_BACKLOG: Type.Integer({ minimum: 1, maximum: 65535, default: 4096 }),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /** PostgreSQL connection string. Unset: an embedded PostgreSQL is started in EMBEDDED_PG_DIR. */
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** Maximum connections in this node's pool. */
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  /**
   * Connections the pool keeps open however long they are idle (at most DATABASE_POOL_MAX): an alarm that must open a
   * connection and warm a new backend (cold caches, plans, trigger functions) takes about three times as long, and alarms are rare.
   */
  DATABASE_POOL_MIN: Type.Integer({ minimum: 0, maximum: 500, default: 4 }),
  /** Connections beyond DATABASE_POOL_MIN are closed after this long idle. */
  DATABASE_POOL_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30000 }),
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
  /** VAPID public key (base64url) for Web Push. With VAPID_PRIVATE_KEY; unset: a key pair is made on first start and kept in Postgres. */
  VAPID_PUBLIC_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' })),
  /** VAPID private key (base64url), the pair of VAPID_PUBLIC_KEY. */
  VAPID_PRIVATE_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
  /** Who push services contact about this server's pushes: a mailto: or https: URL. */
  VAPID_SUBJECT: Type.String({ pattern: '^(mailto:|https://).+', default: 'mailto:drift@samlarm.invalid' }),
  /** Push services the server may send to, comma-separated host names; `*.` matches any subdomain. Subscriptions to other hosts are refused (no requests to arbitrary URLs). */
  PUSH_ALLOWED_HOSTS: Type.String({
    default: 'fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,*.notify.windows.com',
  }),
  /** Push subscriptions (devices) one person may register. */
  PUSH_MAX_DEVICES_PER_PERSON: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** Pushes in flight per node in all. */
  PUSH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 2000, default: 64 }),
  /** Pushes in flight per node to one push service: a slow or hanging service takes no more than this. */
  PUSH_CONCURRENCY_PER_ORIGIN: Type.Integer({ minimum: 1, maximum: 2000, default: 32 }),
  /** How long one push request may take before it counts as failed and is retried. */
  PUSH_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120000, default: 10000 }),
  /**
   * How long a node's claim on an outbox row or escalation step lasts unless renewed. A node renews its
   * claims every third of this while it sends and until the outcome is written, so this only bounds how
   * soon another node takes over the rows of a node that died or froze.
   */
  PUSH_CLAIM_LEASE_MS: Type.Integer({ minimum: 300, maximum: 600000, default: 5000 }),
  /** How often an idle delivery worker looks for due work (new work on the same node starts at once). */
  PUSH_POLL_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 500 }),
  /** Attempts per push or SMS before it is given up as failed. */
  PUSH_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  /** Extra CA certificates (PEM file) trusted for push services and the SMS gateway, besides the system's. */
  PUSH_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** Whether this node runs a delivery worker (sends pushes, SMS and escalations). */
  DELIVERY_WORKER: Type.Boolean({ default: true }),
  /** SMS/voice gateway for escalation and for alarms to recipients without push (ADR 025): messages are POSTed here as JSON. Unset: no SMS at all. */
  SMS_GATEWAY_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Bearer token sent to the SMS gateway. */
  SMS_GATEWAY_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /** Bearer token the SMS gateway sends with its delivery reports (POST /api/v1/sms/reports). Unset: reports are not accepted (404). */
  SMS_REPORT_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  // Hardening (issue 14).
  /** Client-side bound on any one query: a frozen or silently cut-off PostgreSQL otherwise holds a request forever. Must exceed DATABASE_STATEMENT_TIMEOUT_MS, so a slow query is cancelled by the server first. */
  DATABASE_QUERY_TIMEOUT_MS: Type.Integer({ minimum: 200, default: 15000 }),
  /** Idle time before TCP keepalive probes start on a database connection, so a dead peer is noticed on an idle connection too. */
  DATABASE_KEEPALIVE_IDLE_MS: Type.Integer({ minimum: 1000, default: 10000 }),
  /** Deadline for the database part of raising an alarm (pool acquisition and every query): after it the press answers 503 database_unavailable, "call 112". */
  DATABASE_ALARM_DEADLINE_MS: Type.Integer({ minimum: 200, maximum: 60000, default: 3000 }),
  /**
   * How long the server lets one of the node's connections sit idle inside a transaction before it ends it and
   * rolls back. A node that stalls mid-transaction (a paused VM, a frozen process) otherwise holds its locks,
   * among them the timeline's ordering lock every alarm needs, until it wakes (ADR 034). Must stay below
   * DATABASE_ALARM_DEADLINE_MS, so an alarm queued behind a stalled node still makes its deadline.
   */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60000, default: 1500 }),
  /** Bearer token Prometheus sends to read /metrics. Unset: /metrics is not served (404). */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  /** How long a client may take to send a request's headers before the connection is closed (slow-sending clients hold sockets). */
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 500, maximum: 600000, default: 10000 }),
  /** How long a client may take to send a whole request (headers and body) before the connection is closed. At least HTTP_HEADERS_TIMEOUT_MS. */
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 500, maximum: 600000, default: 30000 }),
  // Retention (docs/PRIVACY.md). Every node may run the job; an advisory lock lets one at a time.
  /** Whether this node runs the retention job (deletes and blanks personal data past its period). */
  RETENTION_JOB: Type.Boolean({ default: true }),
  /** How often a retention run is due, in hours, across all nodes. */
  RETENTION_INTERVAL_HOURS: Type.Integer({ minimum: 1, maximum: 168, default: 24 }),
  /** Days a signed-out or expired session (device, IP address, user agent) is kept after it ended. */
  RETENTION_SESSIONS_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** Days a failed sign-in (e-mail address, IP address) is kept. */
  RETENTION_LOGIN_FAILURES_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** Months outbox rows (pushes, SMS with phone numbers), escalation steps and the record of each delivery attempt are kept. */
  RETENTION_DELIVERIES_MONTHS: Type.Integer({ minimum: 1, maximum: 120, default: 3 }),
  /** Months after an incident ended that its location texts and free-text answers are blanked. */
  RETENTION_FREE_TEXT_MONTHS: Type.Integer({ minimum: 1, maximum: 120, default: 12 }),
  /** Years after it ended that an incident and its timeline are deleted, for organisations that have not decided themselves. Unset: kept. */
  RETENTION_INCIDENTS_YEARS: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /** Years an audit log entry is kept. */
  RETENTION_AUDIT_LOG_YEARS: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  /** Days after deactivation that a person is pseudonymised (their name stays while a kept incident needs it). */
  RETENTION_PSEUDONYMISE_AFTER_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  // Administration (issue 12): links, e-mail, sign-in with the organisation's own accounts.
  /** The address people open Samlarm at, e.g. https://samlarm.kommun.se: links in e-mails and the OpenID Connect redirect address. Unset: links are only shown to the admin, and OpenID Connect sign-in is off. */
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$' })),
  /** SMTP server for invitations, reset links, reminders and sign-in notices, e.g. smtps://user:pass@mail.kommun.se:465. Unset: nothing is e-mailed. */
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  /** The sender of Samlarm's e-mails. */
  MAIL_FROM: Type.String({ minLength: 3, default: 'Samlarm <noreply@samlarm.invalid>' }),
  /** How long an invitation link works, in hours. */
  INVITE_LINK_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 168 }),
  /** How long a password reset link works, in minutes. */
  RESET_LINK_TTL_MINUTES: Type.Integer({ minimum: 5, maximum: 10080, default: 60 }),
  /** Extra CA certificates (PEM file) trusted for organisations' OpenID providers, besides the system's. */
  OIDC_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
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
  const problems = Value.Check(ConfigSchema, candidate)
    ? crossFieldProblems(candidate)
    : Value.Errors(ConfigSchema, candidate).map((e) => `${e.instancePath.slice(1) || '(root)'}: ${e.message}`);
  if (problems.length === 0) return candidate as Config;
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  if ((config.VAPID_PUBLIC_KEY === undefined) !== (config.VAPID_PRIVATE_KEY === undefined)) {
    problems.push('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY: give both or neither');
  }
  // The server's statement timeout cancels a slow query and keeps the connection; the client's ends the connection.
  if (config.DATABASE_QUERY_TIMEOUT_MS <= config.DATABASE_STATEMENT_TIMEOUT_MS) {
    problems.push('DATABASE_QUERY_TIMEOUT_MS: must exceed DATABASE_STATEMENT_TIMEOUT_MS');
  }
  // An alarm waiting for a lock a stalled node holds gets it when the server ends that node's transaction.
  if (config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS >= config.DATABASE_ALARM_DEADLINE_MS) {
    problems.push('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: must be below DATABASE_ALARM_DEADLINE_MS');
  }
  if (config.HTTP_REQUEST_TIMEOUT_MS < config.HTTP_HEADERS_TIMEOUT_MS) problems.push('HTTP_REQUEST_TIMEOUT_MS: must be at least HTTP_HEADERS_TIMEOUT_MS');
  // The lockout counts failures within its window: they must still be there.
  if (config.RETENTION_LOGIN_FAILURES_DAYS * 1440 < config.LOGIN_LOCKOUT_MINUTES) {
    problems.push('RETENTION_LOGIN_FAILURES_DAYS: must cover LOGIN_LOCKOUT_MINUTES');
  }
  return problems;
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
