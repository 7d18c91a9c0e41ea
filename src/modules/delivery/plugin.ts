import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import type { Tx } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import type { NewEvent } from '../alarms/events.js';
import { queueIncidentPushes } from './incident-pushes.js';
import { DeliveryWorker } from './worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    delivery: {
      /** Queues the pushes a change's events call for, inside the change's transaction. */
      queue(tx: Tx, events: NewEvent[]): Promise<void>;
      /** This node's worker: sends queued pushes and runs due escalation steps. */
      worker: DeliveryWorker;
    };
  }
}

/**
 * Delivery beyond open sockets: the outbox written with every alarm change, and a worker on every
 * node (unless DELIVERY_WORKER=false) that sends it and escalates.
 */
export default fp<{ clock: Clock }>(async (app, opts) => {
  const attempts = new Counter({
    name: 'samlarm_delivery_attempts_total',
    help: 'Push and SMS attempts this node made, by channel and outcome (sent, retry, gone, failed, cancelled, expired)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [app.metrics],
  });
  const worker = new DeliveryWorker({
    db: app.db, clock: opts.clock, log: app.log.child({ category: 'delivery' }), config: app.config,
    get sender() {
      return app.push.sender();
    },
    sms: app.push.sms,
    // Read when an escalation step runs: the realtime plugin is registered after this one.
    publish: (events) => app.alarms.publish(events),
    count: (channel, outcome) => attempts.inc({ channel, outcome }),
  });
  app.decorate('delivery', {
    queue: (tx, events) => queueIncidentPushes(tx, events, opts.clock.now()),
    worker,
  });
  app.addHook('onReady', async () => {
    if (app.config.DELIVERY_WORKER) worker.start();
  });
  app.addHook('preClose', async () => {
    await worker.stop();
  });
}, { name: 'delivery', dependencies: ['config', 'database', 'metrics', 'push'] });
