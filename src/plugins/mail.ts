import fp from 'fastify-plugin';
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** E-mail through the configured SMTP server (invitations, reset links, reminders, sign-in notices). */
export interface Mailer {
  /** False without SMTP_URL: callers then show links to the admin only. */
  readonly enabled: boolean;
  /** Sends one message; resolves false (and logs) when it could not be handed to the SMTP server. */
  send(message: MailMessage): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    mail: Mailer;
  }
}

const TIMEOUT_MS = 10_000;

export default fp(async (app) => {
  const url = app.config.SMTP_URL;
  let transport: Transporter | null = null;
  if (url) {
    // The URL's own settings, with timeouts: a hanging mail server must not hold a request for minutes.
    const withTimeouts = new URL(url);
    for (const name of ['connectionTimeout', 'greetingTimeout', 'socketTimeout']) {
      if (!withTimeouts.searchParams.has(name)) withTimeouts.searchParams.set(name, String(TIMEOUT_MS));
    }
    transport = nodemailer.createTransport(withTimeouts.toString());
  }
  const mailer: Mailer = {
    enabled: transport !== null,
    send: async (message) => {
      if (!transport) return false;
      try {
        await transport.sendMail({ from: app.config.MAIL_FROM, to: message.to, subject: message.subject, text: message.text });
        return true;
      } catch (err) {
        // The recipient and subject are enough to follow up; the body may carry a one-time link.
        app.log.warn({ err: err instanceof Error ? err.message : String(err), subject: message.subject }, 'e-mail not sent');
        return false;
      }
    },
  };
  app.decorate('mail', mailer);
  app.addHook('onClose', async () => {
    transport?.close();
  });
}, { name: 'mail', dependencies: ['config'] });
