import fp from 'fastify-plugin';
import type { Clock } from '../../lib/clock.js';
import { RetentionJob } from './retention-job.js';

declare module 'fastify' {
  interface FastifyInstance {
    privacy: {
      /** This node's retention job: runs when due, one node at a time (RETENTION_JOB). */
      retention: RetentionJob;
      /** Time as the privacy use cases see it (exports, erasure). */
      clock: Clock;
    };
  }
}

/** Personal data's life cycle: the retention job on every node that runs it (docs/PRIVACY.md). */
export default fp<{ clock: Clock }>(async (app, opts) => {
  const retention = new RetentionJob({
    db: app.db, config: app.config, clock: opts.clock, log: app.log.child({ category: 'retention' }),
  });
  app.decorate('privacy', { retention, clock: opts.clock });
  app.addHook('onReady', async () => {
    if (app.config.RETENTION_JOB) retention.start();
  });
  app.addHook('preClose', async () => {
    await retention.stop();
  });
}, { name: 'privacy', dependencies: ['config', 'database'] });
