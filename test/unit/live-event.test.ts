import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/contract/alarms.js';
import { liveEvent } from '../../src/modules/realtime/publisher.js';

const sent = (type: EventEnvelope['type']): EventEnvelope => ({
  id: '1', incidentId: 'i', siteId: 's', type, drill: false, actorPersonId: null, at: '2026-12-03T09:00:00.000Z', data: {},
});

describe('an event as sent live', () => {
  it('asks the devices of every alarm, a school\'s as one to thousands, to hold their receipts until it should have reached them all, then to spread them', () => {
    const asked = (type: EventEnvelope['type'], people: number) => {
      const { receiptAfterMs, receiptWithinMs } = liveEvent(sent(type), people);
      return { receiptAfterMs, receiptWithinMs };
    };
    expect(asked('raised', 1)).toEqual({ receiptAfterMs: 0, receiptWithinMs: 0 });
    expect(asked('raised', 30)).toEqual({ receiptAfterMs: 3, receiptWithinMs: 12 });
    expect(asked('reraised', 300)).toEqual({ receiptAfterMs: 30, receiptWithinMs: 120 });
    expect(asked('raised', 500)).toEqual({ receiptAfterMs: 50, receiptWithinMs: 200 });
    expect(asked('reraised', 2500)).toEqual({ receiptAfterMs: 250, receiptWithinMs: 1000 });
    expect(asked('raised', 5000)).toEqual({ receiptAfterMs: 500, receiptWithinMs: 2000 });
    expect(asked('raised', 100_000)).toEqual({ receiptAfterMs: 1000, receiptWithinMs: 2000 });
  });

  it('has every receipt asked for within three seconds, whatever the alarm\'s size, so the roll call is full before the first repush (five seconds at the least)', () => {
    for (const people of [1, 300, 500, 999, 5000, 12_345, 1_000_000]) {
      const { receiptAfterMs = 0, receiptWithinMs = 0 } = liveEvent(sent('raised'), people);
      expect(receiptAfterMs + receiptWithinMs).toBeLessThanOrEqual(3000);
    }
  });

  it('leaves every event that asks for no receipt as the timeline holds it', () => {
    expect(liveEvent(sent('resolved'), 5000)).toEqual(sent('resolved'));
    expect(liveEvent(sent('message'), 5000)).toEqual(sent('message'));
  });
});
