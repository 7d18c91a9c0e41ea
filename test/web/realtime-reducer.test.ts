import { describe, expect, it } from 'vitest';
import { initialState, reduce, type Action, type Effect, type RealtimeState } from '../../web/src/lib/realtime/reducer.ts';
import type { ActiveIncidentState, Envelope, Instruction } from '../../web/src/lib/types.ts';
import type { EventType, IncidentView } from '../../src/contract/alarms.ts';
import type { ResyncReason } from '../../src/contract/realtime.ts';

/**
 * The device's rules of docs/realtime.md as a pure function: what an event, a catch-up answer or the
 * person's own action does to what the phone shows, and which effects (ring, silence, receipts) follow.
 */

const ME = 'p-me';
const OTHER = 'p-other';
const SITE = 's-vasa';

const TYPES = {
  brand: {
    id: 't-brand', key: 'brand', label: { sv: 'Brand', en: 'Fire' }, instruction: { sv: 'Utrym', en: 'Evacuate' }, colour: '#c62828', icon: 'flame',
    sound: 'loud' as const, precedence: 50, cap: { category: 'Fire', event: 'Brand', responseType: 'Evacuate', severity: 'Severe', urgency: 'Immediate' },
  },
  inrymning: {
    id: 't-inr', key: 'inrymning', label: { sv: 'Inrymning', en: 'Lockdown' }, instruction: { sv: 'Lås', en: 'Lock' }, colour: '#6a1b9a', icon: 'lock',
    sound: 'silent' as const, precedence: 100, cap: { category: 'Security', event: 'Inrymning', responseType: 'Shelter', severity: 'Extreme', urgency: 'Immediate' },
  },
};

/** A whole incident as the server sends it (the contract's IncidentView). */
function incident(id: string, type: keyof typeof TYPES = 'brand', over: Partial<IncidentView> = {}): IncidentView {
  const raisedAt = '2026-05-04T10:00:00.000Z';
  return {
    id, organisationId: 'o-utb', siteId: SITE, siteName: 'Vasaskolan', drill: false, state: 'active', location: null, message: null,
    raisedBy: { id: OTHER, name: 'Kim' }, raisedAt, lastPressedAt: raisedAt, endedAt: null, endedBy: null, endReason: null, linkedFrom: null,
    pressers: [{ personId: OTHER, name: 'Kim', pressedAt: raisedAt }], recipients: 5, type: TYPES[type], ...over,
  };
}

function instruction(incidentId: string, type: keyof typeof TYPES, since = '2026-05-04T10:00:00.000Z'): Instruction {
  const t = TYPES[type];
  return {
    siteId: SITE, incidentId, typeKey: t.key, label: t.label, text: t.instruction, colour: t.colour, icon: t.icon, sound: t.sound,
    responseType: 'Evacuate', drill: false, since, activeIncidents: 1,
  };
}

function event(id: number, type: EventType, incidentId: string, data: Record<string, unknown> = {}): Envelope {
  return { id: String(id), incidentId, siteId: SITE, type, drill: false, actorPersonId: OTHER, at: `2026-05-04T10:00:${String(id % 60).padStart(2, '0')}.000Z`, data };
}

const raisedEvent = (id: number, inc: IncidentView, instr: Instruction | null = instruction(inc.id, inc.type.key as keyof typeof TYPES)) =>
  event(id, 'raised', inc.id, { incident: inc, instruction: instr });
const resolvedEvent = (id: number, inc: IncidentView, instr: Instruction | null = null) =>
  event(id, 'resolved', inc.id, { incident: { ...inc, state: 'resolved' }, reason: null, instruction: instr });

/** Reduces a sequence of actions, collecting every effect. */
function run(actions: Action[], state: RealtimeState = initialState(ME, null)): { state: RealtimeState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const action of actions) {
    const result = reduce(state, action);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const live = (e: Envelope): Action => ({ type: 'event', event: e });
const EPOCH = '6f1c1a52-3b8e-4c0f-9d57-0c2f4e8a9b10';
const batch = (cursor: number, events: Envelope[], epoch = EPOCH): Action => ({
  type: 'catchUp', body: { kind: 'events', epoch, cursor: String(cursor), events },
});
const resync = (cursor: number, incidents: ActiveIncidentState[], epoch = EPOCH, reason: ResyncReason = 'too_far_behind'): Action => ({
  type: 'catchUp', body: { kind: 'resync', epoch, cursor: String(cursor), reason, incidents },
});
const rings = (effects: Effect[]) => effects.filter((e) => e.kind === 'ring').map((e) => (e.kind === 'ring' ? `${e.incident.id}:${e.sound}` : ''));
const silenced = (effects: Effect[]) => effects.filter((e) => e.kind === 'silence').map((e) => (e.kind === 'silence' ? e.incidentId : ''));
const receipts = (effects: Effect[]) => effects.filter((e) => e.kind === 'receipt').map((e) => (e.kind === 'receipt' ? `${e.incidentId}:${e.receipt}` : ''));
const active = (state: RealtimeState, id: string) => state.incidents[id]?.incident.state;

describe('web app realtime reducer', () => {
  it('rings for an alarm and confirms delivery once; the same event again, live or in a catch-up, changes nothing', () => {
    const fire = incident('i1');
    const first = run([live(raisedEvent(11, fire))]);
    expect(rings(first.effects)).toEqual(['i1:loud']);
    expect(receipts(first.effects)).toEqual(['i1:delivered']);
    expect(first.state.instructions[SITE]?.incidentId).toBe('i1');

    const again = run([live(raisedEvent(11, fire)), batch(11, [raisedEvent(11, fire)])], first.state);
    expect(rings(again.effects)).toEqual([]);
    expect(receipts(again.effects)).toEqual([]);
    expect(again.state.incidents).toEqual(first.state.incidents);
  });

  it('confirms a live alarm after the wait and within the spread the server asked for, and at once when it asked for none', () => {
    const spread = run([live({ ...raisedEvent(11, incident('i1')), receiptAfterMs: 500, receiptWithinMs: 2000 }), live(raisedEvent(12, incident('i2')))]);
    const asked = spread.effects.flatMap((e) => (e.kind === 'receipt' ? [[e.incidentId, e.spread]] : []));
    expect(asked).toEqual([['i1', { afterMs: 500, withinMs: 2000 }], ['i2', undefined]]);
  });

  it('never turns an ended incident active again: not by a late raise, a re-alert, nor a resync read before the end', () => {
    const fire = incident('i1');
    const ended = run([live(resolvedEvent(12, fire)), live(raisedEvent(11, fire)), live(event(13, 'reraised', 'i1', { incident: fire }))]);
    expect(active(ended.state, 'i1')).toBe('resolved');
    expect(rings(ended.effects)).toEqual([]);
    expect(receipts(ended.effects)).toEqual([]);

    // The server's state, read before the all clear committed, still lists it as active.
    const after = run([resync(12, [{ incident: fire, instruction: instruction('i1', 'brand'), messages: [], myStatus: null }])], ended.state);
    expect(active(after.state, 'i1')).toBe('resolved');
    expect(rings(after.effects)).toEqual([]);
    expect(silenced(after.effects)).toContain('i1');
  });

  it('keeps the instruction of the newest event when events from different nodes arrive out of order; a resync starts afresh', () => {
    const fire = incident('i1');
    const lockdown = incident('i2', 'inrymning');
    const changed = event(20, 'instruction_changed', 'i1', { instruction: instruction('i2', 'inrymning', '2026-05-04T10:01:00.000Z') });
    const { state } = run([live(raisedEvent(21, lockdown, instruction('i2', 'inrymning'))), live(changed), live(raisedEvent(19, fire, instruction('i1', 'brand')))]);
    // Event 21 set the lockdown; 20 and 19 are older and do not replace it.
    expect(state.instructions[SITE]?.incidentId).toBe('i2');
    expect(state.instructionFrom[SITE]).toBe('21');

    const fresh = run([resync(21, [{ incident: fire, instruction: instruction('i1', 'brand'), messages: [], myStatus: null }])], state).state;
    expect(fresh.instructions[SITE]?.incidentId).toBe('i1');
    expect(fresh.instructionFrom).toEqual({});
  });

  it('a resync under a silent instruction silences everything at the site and rings nothing there', () => {
    const fire = incident('i1');
    const ringing = run([live(raisedEvent(11, fire))]);
    expect(rings(ringing.effects)).toEqual(['i1:loud']);
    const lockdown = incident('i2', 'inrymning');
    const lockdownNow = instruction('i2', 'inrymning');
    const after = run([resync(40, [
      { incident: fire, instruction: lockdownNow, messages: [], myStatus: null },
      { incident: lockdown, instruction: lockdownNow, messages: [], myStatus: null },
    ])], ringing.state);
    expect(silenced(after.effects)).toEqual(expect.arrayContaining(['i1', 'i2']));
    // The lockdown is new to the device: shown, silently.
    expect(rings(after.effects)).toEqual(['i2:silent']);
    expect(receipts(after.effects).sort()).toEqual(['i1:delivered', 'i2:delivered']);
  });

  it('a resync that no longer lists an alarm silences it, keeps showing it and asks how it ended', () => {
    const fire = incident('i1');
    const { state } = run([live(raisedEvent(11, fire))]);
    const after = run([resync(50, [])], state);
    expect(silenced(after.effects)).toEqual(['i1']);
    expect(after.effects).toContainEqual({ kind: 'learnEnd', incidentId: 'i1' });
    expect(active(after.state, 'i1')).toBe('active');
    expect(after.state.instructions[SITE]).toBeNull();

    const learnt = run([{ type: 'ended', incident: { ...fire, state: 'resolved', endReason: null, endedAt: '2026-05-04T10:05:00.000Z', endedBy: { id: OTHER, name: 'Kim' } } }], after.state);
    expect(learnt.state.incidents.i1?.incident).toMatchObject({ state: 'resolved', endedBy: { name: 'Kim' } });
  });

  it('a re-alert the person has seen does not ring again when a resync brings its events again; one they have not seen rings even after they answered', () => {
    const fire = incident('i1');
    const reraised = event(12, 'reraised', 'i1', { incident: fire, instruction: instruction('i1', 'brand') });
    let { state, effects } = run([live(raisedEvent(11, fire)), { type: 'answered', incidentId: 'i1', status: 'safe' }, live(reraised)]);
    expect(rings(effects)).toEqual(['i1:loud', 'i1:loud']);
    ({ state } = run([{ type: 'acknowledge', incidentId: 'i1' }], state));
    // A resync resets de-duplication, then a catch-up brings the re-alert again.
    ({ state, effects } = run([resync(11, [{ incident: fire, instruction: instruction('i1', 'brand'), messages: [], myStatus: 'safe' }]), batch(12, [reraised])], state));
    expect(rings(effects)).toEqual([]);

    // A newer re-alert rings again.
    ({ effects } = run([batch(13, [event(13, 'reraised', 'i1', { incident: fire })])], state));
    expect(rings(effects)).toEqual(['i1:loud']);
  });

  it('moves the cursor only forward and only from answers; skips live events at or before it; forgets de-duplication below it', () => {
    const fire = incident('i1');
    let { state, effects } = run([batch(10, [])]);
    expect(state.cursor).toBe('10');
    expect(effects).toEqual([{ kind: 'saveCursor', cursor: '10', epoch: EPOCH }]);

    // A live event at or before the cursor is already in what the answer gave.
    ({ state, effects } = run([live(raisedEvent(9, fire))], state));
    expect(state.incidents).toEqual({});
    expect(effects).toEqual([]);

    // A live event after it applies but does not move the cursor; a later answer covering it does, and prunes it.
    ({ state } = run([live(raisedEvent(14, fire))], state));
    expect(state.cursor).toBe('10');
    expect([...state.seen]).toEqual(['14']);
    ({ state, effects } = run([batch(14, [])], state));
    expect(state.cursor).toBe('14');
    expect([...state.seen]).toEqual([]);

    // An older answer never moves it back.
    ({ state, effects } = run([batch(12, [])], state));
    expect(state.cursor).toBe('14');
    expect(effects.filter((e) => e.kind === 'saveCursor')).toEqual([]);
  });

  it('an answer from another epoch (a restored database) moves the cursor back to its own, and live events after it apply again', () => {
    const fire = incident('i1');
    const restored = '0b5e7d3c-8a41-4f6e-b2c9-7d1e5f3a8c20';
    let { state } = run([batch(40, [])]);
    expect(state.cursor).toBe('40');

    // The restored database reuses ids up to 40: the server answers with a resync in its own epoch.
    let effects: Effect[];
    ({ state, effects } = run([resync(25, [], restored, 'other_epoch')], state));
    expect(state.cursor).toBe('25');
    expect(state.epoch).toBe(restored);
    expect(effects.filter((e) => e.kind === 'saveCursor')).toEqual([{ kind: 'saveCursor', cursor: '25', epoch: restored }]);

    // An alarm whose id the old cursor would have skipped.
    ({ state, effects } = run([live(raisedEvent(30, fire))], state));
    expect(active(state, 'i1')).toBe('active');
    expect(rings(effects)).toEqual(['i1:loud']);
  });

  it('a catch-up batch rings only for what is still going on after the whole batch', () => {
    const fire = incident('i1');
    const threat = incident('i2');
    const { state, effects } = run([batch(30, [raisedEvent(21, fire), raisedEvent(22, threat), resolvedEvent(23, fire, instruction('i2', 'brand'))])]);
    expect(rings(effects)).toEqual(['i2:loud']);
    expect(active(state, 'i1')).toBe('resolved');
    expect(state.instructions[SITE]?.incidentId).toBe('i2');
  });

  it("the presser's own alarm is shown without ringing, remembered as seen, and the raise answer never replaces a newer instruction", () => {
    const mine = incident('i1', 'brand', { raisedBy: { id: ME, name: 'Me' } });
    const newer = instruction('i2', 'inrymning', '2026-05-04T10:02:00.000Z');
    let { state, effects } = run([live(event(30, 'instruction_changed', 'i2', { instruction: newer }))]);
    ({ state, effects } = run([{ type: 'raised', incident: mine, instruction: instruction('i1', 'brand', '2026-05-04T10:01:00.000Z') }, live(raisedEvent(31, mine, newer))], state));
    expect(rings(effects)).toEqual([]);
    expect(state.incidents.i1?.acknowledged).toBe(true);
    expect(state.acknowledgedIds).toEqual(['i1']);
    expect(state.instructions[SITE]?.incidentId).toBe('i2');
  });

  it('leaves a message that arrives before its incident for the catch-up to apply again', () => {
    const fire = incident('i1');
    const message = event(12, 'message', 'i1', { messageId: '7', authorName: 'Kim', body: 'Samling i aulan', instruction: instruction('i1', 'brand') });
    let { state } = run([live(message)]);
    expect(state.seen.has('12')).toBe(false);
    ({ state } = run([batch(12, [raisedEvent(11, fire), message])], state));
    expect(state.incidents.i1?.messages.map((m) => m.body)).toEqual(['Samling i aulan']);
  });

  it("highlights a lead's new instruction and asks for attention, without vibrating where the site is silent; touching the alarm clears it", () => {
    const fire = incident('i1');
    const lockdown = incident('i2', 'inrymning');
    let { state, effects } = run([
      live(raisedEvent(11, fire)), live(raisedEvent(12, lockdown, instruction('i2', 'inrymning'))),
      live(event(13, 'message', 'i1', { messageId: '1', authorName: 'Kim', body: 'Stanna inne' })),
    ]);
    expect(state.incidents.i1?.freshMessage).toBe('m1');
    // The lockdown rules the site: the fire's new instruction must not buzz in a hiding place.
    expect(effects).toContainEqual({ kind: 'newInstruction', incidentId: 'i1', silent: true });
    ({ state, effects } = run([{ type: 'acknowledge', incidentId: 'i1' }], state));
    expect(state.incidents.i1?.freshMessage).toBeNull();
    expect(receipts(effects)).toEqual(['i1:acknowledged']);

    const loud = run([live(raisedEvent(21, incident('i3'))), live(event(22, 'message', 'i3', { messageId: '2', body: 'Gå ut' }))], initialState(ME, null));
    expect(loud.effects).toContainEqual({ kind: 'newInstruction', incidentId: 'i3', silent: false });

    // The lead's own instruction is not news to the lead.
    const own = run([live(raisedEvent(31, incident('i4'))), live(event(32, 'message', 'i4', { messageId: '3', authorId: ME, body: 'Gå ut' }))], initialState(ME, null));
    expect(own.state.incidents.i4?.freshMessage).toBeNull();
    expect(own.effects.filter((e) => e.kind === 'newInstruction')).toEqual([]);
  });

  it('acknowledging confirms once and remembers the incident across reloads', () => {
    const fire = incident('i1');
    const { state, effects } = run([live(raisedEvent(11, fire)), { type: 'acknowledge', incidentId: 'i1' }, { type: 'acknowledge', incidentId: 'i1' }]);
    expect(receipts(effects)).toEqual(['i1:delivered', 'i1:acknowledged']);
    expect(silenced(effects)).toEqual(['i1', 'i1']);
    expect(effects).toContainEqual({ kind: 'saveAcknowledged', ids: ['i1'] });

    // After a reload, the remembered incident does not ring again when catching up.
    const reloaded = run([batch(11, [raisedEvent(11, fire)])], initialState(ME, null, state.acknowledgedIds));
    expect(rings(reloaded.effects)).toEqual([]);
  });

  it('an all clear says who and when: from the event, or at least its time', () => {
    const fire = incident('i1');
    const withWho = run([live(raisedEvent(11, fire)), live(event(12, 'resolved', 'i1', {
      incident: { ...fire, state: 'resolved', endedAt: '2026-05-04T10:09:00.000Z', endedBy: { id: OTHER, name: 'Kim Krisledare' } }, reason: null, instruction: null,
    }))]);
    expect(withWho.state.incidents.i1?.incident).toMatchObject({ endedAt: '2026-05-04T10:09:00.000Z', endedBy: { name: 'Kim Krisledare' } });
    const without = run([live(raisedEvent(11, fire)), live(resolvedEvent(12, fire))]);
    expect(without.state.incidents.i1?.incident.endedAt).toBe('2026-05-04T10:00:12.000Z');
  });
});
