import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/modules/alarms/events.js';
import { siteInstructionChanges } from '../../src/modules/alarms/site-notices.js';

/** Which changes tell the people at a site its instruction (ADR 027), as a pure rule of the change's events. */
const SITE = 'site-1';
const at = new Date('2026-12-02T10:00:00Z');
const event = (type: NewEvent['type'], incidentId: string, data: Record<string, unknown>, over: Partial<NewEvent> = {}): NewEvent => ({
  incidentId, organisationId: 'org-1', siteId: SITE, drill: false, type, audience: 'all', actorPersonId: null, data, at, ...over,
});
const inForce = (incidentId: string) => ({ incidentId, typeKey: 'inrymning' });

describe('which changes alter a site\'s instruction', () => {
  it('a raise that puts its incident in force does, with the incidents whose people it told', () => {
    const changes = siteInstructionChanges([
      event('raised', 'a', { instruction: inForce('a') }),
      event('recipients_computed', 'a', { instruction: inForce('a') }, { audience: 'leads' }),
      event('instruction_changed', 'b', { instruction: inForce('a') }),
    ]);
    expect(changes).toEqual([{ siteId: SITE, organisationId: 'org-1', incidentId: 'a', told: ['a', 'b'], at }]);
  });

  it('a raise overridden by what is already in force does not', () => {
    expect(siteInstructionChanges([event('raised', 'a', { instruction: inForce('b') })])).toEqual([]);
  });

  it('an end that leaves nothing in force does; one that leaves another alarm in force without changing it does not', () => {
    expect(siteInstructionChanges([event('resolved', 'a', { instruction: null })])).toHaveLength(1);
    expect(siteInstructionChanges([event('cancelled', 'a', { instruction: inForce('b') })])).toEqual([]);
  });

  it('a lead\'s written instruction on the incident in force does; on an overridden one, and replies, do not', () => {
    expect(siteInstructionChanges([event('message', 'a', { instruction: inForce('a') })])).toHaveLength(1);
    expect(siteInstructionChanges([event('message', 'b', { instruction: inForce('a') })])).toEqual([]);
    expect(siteInstructionChanges([event('reply', 'a', { instruction: inForce('a') }, { audience: 'leads' })])).toEqual([]);
  });

  it('a linked incident at another site is a change of that site', () => {
    const changes = siteInstructionChanges([
      event('raised', 'a', { instruction: inForce('a') }),
      event('raised', 'linked', { instruction: inForce('linked') }, { siteId: 'site-2', organisationId: 'org-2' }),
    ]);
    expect(changes.map((c) => [c.siteId, c.organisationId, c.told])).toEqual([[SITE, 'org-1', ['a']], ['site-2', 'org-2', ['linked']]]);
  });
});
