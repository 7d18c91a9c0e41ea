import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import ece from 'http_ece';

/** The CA file the app trusts for the fake push service (PUSH_CA_FILE): its own self-signed certificate. */
export const PUSH_SERVICE_CA = fileURLToPath(new URL('../fixtures/push-service.crt', import.meta.url));
const KEY = fileURLToPath(new URL('../fixtures/push-service.key', import.meta.url));

/** What the service answers: a status (with headers), or never (the request hangs until the client gives up). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface Received {
  subscriptionId: string;
  at: number;
  status: number | 'hang';
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  contentEncoding: string | undefined;
  /** The VAPID token verified against its key, audience and expiry. */
  vapidValid: boolean;
  vapidToken: string | null;
  bodyBytes: number;
  /** The decrypted payload (JSON), or null if it did not decrypt. */
  payload: Record<string, unknown> | null;
}

interface FakeSubscription {
  id: string;
  ecdh: ECDH;
  auth: Buffer;
  script: Answer[];
}

function decrypt(body: Buffer, subscription: FakeSubscription): Record<string, unknown> | null {
  try {
    const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: subscription.ecdh, authSecret: subscription.auth.toString('base64url') });
    return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function verifyVapid(header: string | undefined, audience: string): { valid: boolean; token: string | null } {
  const match = /^vapid t=([^,]+),\s*k=(.+)$/.exec(header ?? '');
  if (!match?.[1] || !match[2]) return { valid: false, token: null };
  const token = match[1];
  const [head, body, signature] = token.split('.');
  if (!head || !body || !signature) return { valid: false, token };
  const point = Buffer.from(match[2], 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  const signed = verify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { aud?: string; exp?: number };
  return { valid: signed && claims.aud === audience && (claims.exp ?? 0) > Date.now() / 1000, token };
}

/**
 * A local Web Push service over HTTPS: hands out subscriptions like a browser would (it keeps
 * their private keys), decrypts every message with http_ece, checks the VAPID token, and answers
 * 201, 404, 410, 429, 5xx or nothing at all, as a test scripts it per subscription.
 */
export class FakePushService {
  readonly received: Received[] = [];
  private readonly subscriptions = new Map<string, FakeSubscription>();
  private readonly hanging = new Set<ServerResponse>();
  /** The answer to requests with no script of their own. */
  defaultAnswer: Answer = { status: 201 };
  /**
   * Answer first and decrypt later (decryptAll()): for benchmarks, so that the service's own
   * decryption does not set the pace of the senders it measures.
   */
  decryptLater = false;
  private readonly undecrypted: { received: Received; body: Buffer; subscription: FakeSubscription }[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly origin: string) {}

  static async start(): Promise<FakePushService> {
    const holder: { service?: FakePushService } = {};
    const server = createServer({ cert: readFileSync(PUSH_SERVICE_CA), key: readFileSync(KEY) }, (req, res) => {
      void holder.service?.handle(req, res);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.service = new FakePushService(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.service;
  }

  /** A new subscription as PushSubscription.toJSON() gives it. */
  subscribe(script: Answer[] = []): { id: string; endpoint: string; keys: { p256dh: string; auth: string } } {
    const id = randomUUID();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subscriptions.set(id, { id, ecdh, auth, script: [...script] });
    return {
      id, endpoint: `${this.origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    };
  }

  /** Answers for a subscription's next requests, in order. */
  script(id: string, answers: Answer[]): void {
    this.subscriptions.get(id)?.script.push(...answers);
  }

  for(id: string): Received[] {
    return this.received.filter((r) => r.subscriptionId === id);
  }

  /** Resolves when the predicate holds over what was received; rejects after the timeout. */
  async waitFor(predicate: (received: Received[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`push service: condition not met in ${timeoutMs} ms (${this.received.length} received)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Decrypts what was received while decryptLater was on. */
  decryptAll(): void {
    for (const { received, body, subscription } of this.undecrypted.splice(0)) received.payload = decrypt(body, subscription);
  }

  /** Answers every hanging request with 201 (as a service that recovered would). */
  releaseHanging(status = 201): void {
    for (const res of this.hanging) if (!res.destroyed) res.writeHead(status).end();
    this.hanging.clear();
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const id = /^\/push\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1];
    const subscription = id ? this.subscriptions.get(id) : undefined;
    if (!subscription || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const answer = subscription.script.shift() ?? this.defaultAnswer;
    const vapid = verifyVapid(req.headers.authorization, this.origin);
    const received: Received = {
      subscriptionId: subscription.id, at: Date.now(), status: answer === 'hang' ? 'hang' : answer.status,
      ttl: Number(req.headers.ttl), urgency: req.headers.urgency as string | undefined, topic: req.headers.topic as string | undefined,
      contentEncoding: req.headers['content-encoding'], vapidValid: vapid.valid, vapidToken: vapid.token, bodyBytes: body.length,
      payload: this.decryptLater ? null : decrypt(body, subscription),
    };
    if (this.decryptLater) this.undecrypted.push({ received, body, subscription });
    this.received.push(received);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(answer.status, answer.headers ?? {}).end();
  }
}
