import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import webpush from 'web-push';

/** Where and how to send one push: the subscription as the browser gave it. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushOptions {
  ttlSeconds: number;
  topic: string | null;
}

/** What came of one request to a push service or gateway. */
export type SendOutcome =
  | { result: 'sent'; status: number }
  /** 404/410: the subscription no longer exists; remove it. */
  | { result: 'gone'; status: number }
  /** 429, 5xx, timeouts and network errors: try again, no sooner than retryAfterMs if the service said so. */
  | { result: 'retry'; status: number | null; retryAfterMs: number | null; error: string }
  /** Anything else (400, 401, 403, 413…): retrying will not help. */
  | { result: 'failed'; status: number; error: string };

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** Retry-After as seconds or an HTTP date; null if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function classify(status: number, headers: Record<string, string | string[] | undefined>, body: string): SendOutcome {
  if (status >= 200 && status < 300) return { result: 'sent', status };
  if (status === 404 || status === 410) return { result: 'gone', status };
  const error = `${status} ${body.slice(0, 200)}`.trim();
  if (status === 429 || status >= 500) return { result: 'retry', status, retryAfterMs: parseRetryAfter(headers['retry-after']), error };
  return { result: 'failed', status, error };
}

/** An HTTP agent for push services and gateways: keep-alive, bounded connections, the system's CAs plus PUSH_CA_FILE. */
export function outboundAgent(options: { connectionsPerOrigin: number; timeoutMs: number; caFile?: string | undefined }): Agent {
  return new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    // One secure context for every connection: building one from a CA list per connection costs milliseconds each.
    ...(options.caFile ? { connect: { secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(options.caFile, 'utf8')] }) } } : {}),
  });
}

// VAPID tokens may live up to 24 h; ours live 12 h and are renewed an hour before they expire.
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_RENEW_BEFORE_S = 3600;

/**
 * Sends Web Push messages (RFC 8030/8291/8292): payload encrypted per subscription with aes128gcm,
 * `Urgency: high`, the given TTL and Topic. The VAPID header is signed once per push service
 * origin and reused for its lifetime instead of once per message.
 */
export class PushSender {
  private readonly vapidHeaders = new Map<string, { authorization: string; renewAt: number }>();

  constructor(
    private readonly vapid: VapidKeys,
    private readonly agent: Agent,
    private readonly timeoutMs: number,
  ) {}

  get publicKey(): string {
    return this.vapid.publicKey;
  }

  private authorization(origin: string): string {
    const nowS = Math.floor(Date.now() / 1000);
    const cached = this.vapidHeaders.get(origin);
    if (cached && cached.renewAt > nowS) return cached.authorization;
    const expiresAt = nowS + VAPID_LIFETIME_S;
    const headers = webpush.getVapidHeaders(origin, this.vapid.subject, this.vapid.publicKey, this.vapid.privateKey, 'aes128gcm', expiresAt);
    this.vapidHeaders.set(origin, { authorization: headers.Authorization, renewAt: expiresAt - VAPID_RENEW_BEFORE_S });
    return headers.Authorization;
  }

  async send(target: PushTarget, payload: string, options: PushOptions): Promise<SendOutcome> {
    const origin = new URL(target.endpoint).origin;
    // No vapidDetails here (and none set globally): web-push only encrypts, the header is ours.
    const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
      TTL: options.ttlSeconds,
      urgency: 'high',
      contentEncoding: 'aes128gcm',
      ...(options.topic ? { topic: options.topic } : {}),
      headers: { Authorization: this.authorization(origin) },
    });
    const headers = Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)]));
    return post(this.agent, details.endpoint, headers, details.body ?? Buffer.alloc(0), this.timeoutMs);
  }
}

/** One POST with an overall deadline; never throws. */
export async function post(
  agent: Agent, url: string, headers: Record<string, string>, body: Buffer | string, timeoutMs: number,
): Promise<SendOutcome> {
  try {
    const response = await request(url, {
      method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    return classify(response.statusCode, response.headers, text);
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { result: 'retry', status: null, retryAfterMs: null, error };
  }
}
