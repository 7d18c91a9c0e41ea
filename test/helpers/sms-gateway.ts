import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmsMessage {
  to: string;
  message: string;
  reference: string;
  auth: string | undefined;
  /** When it arrived at the gateway (the wall clock). */
  receivedAt: number;
}

/** A local SMS gateway: records what it is asked to send and answers 202, or what a test scripts. */
export class FakeSmsGateway {
  readonly messages: SmsMessage[] = [];
  /** Answers for the next requests, in order; then 202. */
  readonly script: number[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeSmsGateway> {
    const server = createServer();
    const gateway = new FakeSmsGateway(server);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        gateway.messages.push({ ...(JSON.parse(body) as { to: string; message: string; reference: string }), auth: req.headers.authorization, receivedAt: Date.now() });
        const status = gateway.script.shift() ?? 202;
        res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"queued":true}' : '{"error":"refused"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sms`;
  }

  /** Waits until the gateway has received what the predicate asks for (a generous deadline: a busy machine). */
  async waitFor(predicate: (messages: SmsMessage[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > end) throw new Error(`SMS gateway: condition not met within ${timeoutMs} ms; received ${JSON.stringify(this.messages.map((m) => m.to))}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
