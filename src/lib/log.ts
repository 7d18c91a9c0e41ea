import type { FastifyBaseLogger } from 'fastify';

/** The logging surface infrastructure code needs; satisfied by pino loggers and app.log alike. */
export type Log = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'>;
