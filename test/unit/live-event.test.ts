import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/contract/alarms.js';
import { liveEvent } from '../../src/modules/realtime/publisher.js';

const sent = (type: EventEnvelope['type']): EventEnvelope => ({
  id: '1', incidentId: 'i', siteId: 's', type, drill: false, actorPersonId: null, at: '2026-12-03T09:00:00.000Z', data: {},
});

describe('an event as sent live', () => {
  it('asks the devices of an alarm to thousands to spread their receipts, over at most two seconds', () => {
    expect(liveEvent(sent('raised'), 500).receiptWithinMs).toBe(200);
    expect(liveEvent(sent('reraised'), 2500).receiptWithinMs).toBe(1000);
    expect(liveEvent(sent('raised'), 5000).receiptWithinMs).toBe(2000);
    expect(liveEvent(sent('raised'), 100_000).receiptWithinMs).toBe(2000);
  });

  it("leaves a school's alarm, and every event that asks for no receipt, as the timeline holds it", () => {
    expect(liveEvent(sent('raised'), 499)).toEqual(sent('raised'));
    expect(liveEvent(sent('resolved'), 5000)).toEqual(sent('resolved'));
    expect(liveEvent(sent('message'), 5000)).toEqual(sent('message'));
  });
});
