import fp from 'fastify-plugin';
import { RetentionJob } from './retention-job.js';

declare module 'fastify' {
  interface FastifyInstance {
    privacy: {
      /** This node's retention job: runs when due, one node at a time (RETENTION_JOB). */
      retention: RetentionJob;
    };
  }
}

/** Personal data's life cycle: the retention job on every node that runs it (docs/PRIVACY.md). */
export default fp(async (app) => {
  const retention = new RetentionJob({
    db: app.db, config: app.config, clock: app.clock, log: app.log.child({ category: 'retention' }),
  });
  app.decorate('privacy', { retention });
  app.addHook('onReady', async () => {
    if (app.config.RETENTION_JOB) retention.start();
  });
  app.addHook('preClose', async () => {
    await retention.stop();
  });
}, { name: 'privacy', dependencies: ['config', 'database', 'clock'] });
