import fp from 'fastify-plugin';
import type { Clock } from '../lib/clock.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Time as the app sees it: the system clock, or the one a test injects to drive windows and escalation. */
    clock: Clock;
  }
}

export default fp<{ clock: Clock }>(async (app, opts) => {
  app.decorate('clock', opts.clock);
}, { name: 'clock' });
