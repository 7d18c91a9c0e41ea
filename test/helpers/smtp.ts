import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string[];
  subject: string;
  /** The text body, decoded (quoted-printable or base64, UTF-8). */
  text: string;
}

/** Undoes the transfer encoding nodemailer chose for a text body. */
function decodeBody(headers: string, body: string): string {
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  if (/content-transfer-encoding:\s*base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** RFC 2047 encoded words in a header (=?UTF-8?Q?...?= or =?UTF-8?B?...?=). */
function decodeHeader(value: string): string {
  return value.replace(/\r?\n\s+/g, ' ').replace(/=\?utf-8\?([qb])\?([^?]*)\?=\s*/gi, (_, kind: string, text: string) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'));
}

/** A real SMTP server on loopback (the `smtp-server` package) that keeps every message it accepts. */
export class TestSmtpServer {
  readonly messages: ReceivedMail[] = [];

  private constructor(private readonly server: SMTPServer, readonly url: string) {}

  static async start(): Promise<TestSmtpServer> {
    let received: ReceivedMail[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('latin1');
          const split = raw.search(/\r?\n\r?\n/);
          const headers = raw.slice(0, split);
          const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
          const subject = /^subject:\s*(.*(?:\r?\n\s+.*)*)/im.exec(headers)?.[1] ?? '';
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: decodeHeader(subject.trim()),
            text: decodeBody(headers, body),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    const smtp = new TestSmtpServer(server, `smtp://127.0.0.1:${port}`);
    received = smtp.messages;
    return smtp;
  }

  /** Waits (generously: the machine is busy) for a message to this address. */
  async waitFor(to: string, predicate: (m: ReceivedMail) => boolean = () => true, timeoutMs = 20_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.to.includes(to) && predicate(m));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no e-mail to ${to}; got ${JSON.stringify(this.messages.map((m) => [m.to, m.subject]))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
