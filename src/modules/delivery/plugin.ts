import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { queueIncidentPushes } from './incident-pushes.js';
import { pushProgress } from './progress.js';
import { queueSitePushes } from './site-pushes.js';
import { DeliveryWorker } from './worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    delivery: {
      /** This node's worker: sends queued pushes and runs due escalation steps. */
      worker: DeliveryWorker;
    };
  }
}

/**
 * Delivery beyond open sockets. It plugs into the alarm core's pipeline: the pushes a change calls
 * for are queued in the change's own transaction (`queue-pushes`), and once it commits this node's
 * worker is woken (`wake-delivery-worker`); a worker on every node (unless DELIVERY_WORKER=false)
 * sends the outbox and escalates. It also tells the roll call what push did for each recipient.
 */
export default fp(async (app) => {
  const attempts = new Counter({
    name: 'samlarm_delivery_attempts_total',
    help: 'Push and SMS attempts this node made, by channel and outcome (sent, retry, gone, failed, cancelled, expired)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [app.metrics],
  });
  const worker = new DeliveryWorker({
    db: app.db, clock: app.clock, log: app.log.child({ category: 'delivery' }), config: app.config,
    get sender() {
      return app.push.sender();
    },
    sms: app.push.sms,
    pipeline: app.alarms.pipeline,
    count: (channel, outcome) => attempts.inc({ channel, outcome }),
  });
  app.alarms.pipeline.onTransaction('queue-pushes', (tx, change) => queueIncidentPushes(tx, change, {
    now: app.clock.now(), smsOrigin: app.push.sms?.origin ?? null, publicUrl: app.config.PUBLIC_URL ?? null,
  }));
  app.alarms.pipeline.onTransaction('queue-site-pushes', (tx, change) => queueSitePushes(tx, change, app.clock.now()));
  app.alarms.pipeline.afterCommit('wake-delivery-worker', () => worker.poke());
  app.alarms.provide.pushProgress(pushProgress);
  app.decorate('delivery', { worker });
  app.addHook('onReady', async () => {
    if (app.config.DELIVERY_WORKER) worker.start();
  });
  app.addHook('preClose', async () => {
    await worker.stop();
  });
}, { name: 'delivery', dependencies: ['config', 'database', 'metrics', 'push', 'alarms', 'clock'] });
