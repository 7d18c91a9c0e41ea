import type { Agent } from 'undici';
import { post, type SendOutcome } from './push-sender.js';

/**
 * SMS through an HTTP gateway of the operator's choice, for escalation and for alarms to recipients
 * without push (ADR 025; the gateway's delivery reports come back to POST /sms/reports): each message
 * is POSTed as `{ to, message, reference }` with a bearer token. Adapters for a specific provider
 * (46elks, Twilio, a municipal gateway) translate this shape; the outcome rules are the same as
 * for push (2xx sent; 429 and 5xx retried honouring Retry-After; other 4xx failed).
 */
export class SmsGateway {
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly agent: Agent,
    private readonly timeoutMs: number,
  ) {}

  get origin(): string {
    return new URL(this.url).origin;
  }

  async send(message: { to: string; message: string; reference: string }): Promise<SendOutcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return post(this.agent, this.url, headers, JSON.stringify(message), this.timeoutMs);
  }
}
