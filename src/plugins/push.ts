import fp from 'fastify-plugin';
import type { Agent } from 'undici';
import { PushSender, outboundAgent } from '../modules/delivery/push-sender.js';
import { SmsGateway } from '../modules/delivery/sms-gateway.js';
import { PushHostAllowList } from '../modules/delivery/push-endpoints.js';
import { vapidKeys } from '../modules/delivery/vapid.js';

/** The outbound channels to devices without an open app: Web Push, and the SMS gateway if configured. */
export interface PushChannels {
  /** Signs and sends pushes; available once the app is ready (its VAPID keys live in Postgres). */
  sender(): PushSender;
  sms: SmsGateway | null;
  allowList: PushHostAllowList;
}

declare module 'fastify' {
  interface FastifyInstance {
    push: PushChannels;
  }
}

export default fp(async (app) => {
  const config = app.config;
  const agent: Agent = outboundAgent({
    connectionsPerOrigin: config.PUSH_CONCURRENCY_PER_ORIGIN, timeoutMs: config.PUSH_TIMEOUT_MS, caFile: config.PUSH_CA_FILE,
  });
  let sender: PushSender | undefined;
  app.decorate('push', {
    sender: () => {
      if (!sender) throw new Error('push sender used before the app was ready');
      return sender;
    },
    sms: config.SMS_GATEWAY_URL ? new SmsGateway(config.SMS_GATEWAY_URL, config.SMS_GATEWAY_TOKEN, agent, config.PUSH_TIMEOUT_MS) : null,
    allowList: new PushHostAllowList(config.PUSH_ALLOWED_HOSTS),
  });
  // On ready, not at registration: the server applies migrations between building the app and listening.
  app.addHook('onReady', async () => {
    const keys = await vapidKeys(app.db, config);
    sender = new PushSender({ ...keys, subject: config.VAPID_SUBJECT }, agent, config.PUSH_TIMEOUT_MS);
  });
  app.addHook('onClose', async () => {
    await agent.close();
  });
}, { name: 'push', dependencies: ['config', 'database'] });
