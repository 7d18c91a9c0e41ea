import { describe, expect, it } from 'vitest';
import { attemptEvent, retryDelayMs, settle, skipReason, smsOutcome } from '../../src/modules/delivery/decisions.js';
import type { ClaimedDelivery } from '../../src/modules/delivery/outbox.js';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

function row(overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  return {
    id: '42', incident_id: '00000000-0000-4000-8000-000000000001', person_id: '00000000-0000-4000-8000-000000000002',
    channel: 'push', kind: 'alarm', origin: 'https://push.example', address: null,
    payload: { v: 1, kind: 'alarm', incidentId: null, drill: false, title: 't', body: 'b', tag: 'x', lang: 'sv', alarmType: null, site: null, at: NOW.toISOString() },
    topic: 'abc', ttl_seconds: 900, attempts: 1, expires_at: later(900_000), subscription_id: '00000000-0000-4000-8000-000000000003',
    endpoint: 'https://push.example/e', p256dh: 'key', auth: 'auth', incident_state: 'active',
    organisation_id: '00000000-0000-4000-8000-000000000004', site_id: '00000000-0000-4000-8000-000000000005', drill: false,
    confirmed: false, superseded: false,
    ...overrides,
  };
}

describe('the delivery worker\'s rules', () => {
  describe('whether a claimed push is still worth sending', () => {
    it('sends a live alarm to a live subscription', () => {
      expect(skipReason(row(), NOW)).toBeNull();
    });

    it('sends nothing but the all clear once the incident has ended', () => {
      for (const kind of ['alarm', 'reminder', 'instruction', 'message', 'escalation'] as const) {
        expect(skipReason(row({ kind, incident_state: 'resolved' }), NOW)).toEqual({ result: 'cancelled', error: 'incident ended' });
      }
      expect(skipReason(row({ kind: 'all_clear', incident_state: 'cancelled' }), NOW)).toBeNull();
    });

    it('stops alarms and reminders to a person a device of whom has confirmed, but not instructions or the all clear', () => {
      expect(skipReason(row({ kind: 'alarm', confirmed: true }), NOW)?.result).toBe('cancelled');
      expect(skipReason(row({ kind: 'reminder', confirmed: true }), NOW)?.result).toBe('cancelled');
      expect(skipReason(row({ kind: 'instruction', confirmed: true }), NOW)).toBeNull();
      expect(skipReason(row({ kind: 'all_clear', confirmed: true }), NOW)).toBeNull();
    });

    it('never lets an older push replace a newer one on the phone, except the all clear', () => {
      expect(skipReason(row({ superseded: true }), NOW)).toEqual({ result: 'cancelled', error: 'superseded by a newer push' });
      expect(skipReason(row({ kind: 'all_clear', superseded: true }), NOW)).toBeNull();
    });

    it('gives up on a push whose time to live has passed, and one whose subscription or session is gone', () => {
      expect(skipReason(row({ expires_at: NOW }), NOW)?.result).toBe('expired');
      expect(skipReason(row({ endpoint: null }), NOW)?.result).toBe('cancelled');
      expect(skipReason(row({ channel: 'sms', address: null, endpoint: null }), NOW)?.result).toBe('cancelled');
      expect(skipReason(row({ channel: 'sms', address: '+46700000001', endpoint: null }), NOW)).toBeNull();
    });

    it('takes a gateway\'s 404 as a failure, not as a gone subscription', () => {
      expect(smsOutcome({ result: 'gone', status: 404 })).toMatchObject({ result: 'failed', status: 404 });
      expect(smsOutcome({ result: 'sent', status: 202 })).toEqual({ result: 'sent', status: 202 });
    });
  });

  describe('what an attempt makes of the row', () => {
    it('backs off from 1 s to 60 s with jitter, and waits at least as long as the service asked', () => {
      expect(retryDelayMs(1, null, 0.5)).toBe(1000);
      expect(retryDelayMs(3, null, 0.5)).toBe(4000);
      expect(retryDelayMs(20, null, 0.5)).toBe(60_000);
      expect(retryDelayMs(1, null, 0)).toBe(800);
      expect(retryDelayMs(1, null, 0.999_999)).toBeCloseTo(1200, 0);
      expect(retryDelayMs(1, 30_000, 0.5)).toBe(30_000);
    });

    it('queues a retry at its backoff while attempts and time remain, and fails it otherwise', () => {
      const retry = { result: 'retry', status: 503, retryAfterMs: null, error: '503' } as const;
      expect(settle(row({ attempts: 2 }), retry, NOW, 8, 0.5)).toEqual({ state: 'queued', dueAt: later(2000), status: 503, error: '503', result: 'retry' });
      expect(settle(row({ attempts: 8 }), retry, NOW, 8, 0.5)).toMatchObject({ state: 'failed', result: 'failed', dueAt: null });
      expect(settle(row({ attempts: 2, expires_at: later(1500) }), retry, NOW, 8, 0.5)).toMatchObject({ state: 'failed', result: 'failed' });
    });

    it('records sent, gone, failed, expired and cancelled as they are', () => {
      expect(settle(row(), { result: 'sent', status: 201 }, NOW, 8, 0)).toMatchObject({ state: 'sent', result: 'sent', status: 201 });
      expect(settle(row(), { result: 'gone', status: 410 }, NOW, 8, 0)).toMatchObject({ state: 'gone', result: 'gone' });
      expect(settle(row(), { result: 'failed', status: 400, error: 'bad' }, NOW, 8, 0)).toMatchObject({ state: 'failed', result: 'failed' });
      expect(settle(row(), { result: 'expired', error: 'late' }, NOW, 8, 0)).toMatchObject({ state: 'failed', result: 'expired' });
      expect(settle(row(), { result: 'cancelled', error: 'ended' }, NOW, 8, 0)).toMatchObject({ state: 'cancelled', result: 'cancelled' });
    });

    it('keeps a review event of every attempt about an incident, drill flag included, and none for a test push', () => {
      const settled = settle(row({ drill: true, attempts: 3 }), { result: 'sent', status: 201 }, NOW, 8, 0);
      expect(attemptEvent(row({ drill: true, attempts: 3 }), settled, NOW)).toMatchObject({
        type: 'delivery_attempt', audience: 'review', drill: true, at: NOW,
        data: { deliveryId: '42', attempt: 3, outcome: 'sent', status: 201, nextAttemptAt: null },
      });
      expect(attemptEvent(row({ incident_id: null, kind: 'test' }), settled, NOW)).toBeNull();
    });
  });
});
