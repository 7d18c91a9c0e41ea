import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmTypeSnapshot } from '../src/modules/alarm-types/alarm-types.js';
import type { SiteInstruction } from '../src/modules/alarms/instruction.js';
import {
  buildPayload, incidentTopic, MAX_PAYLOAD_BYTES, type DeliveryKind, type IncidentContext, type Language, type PayloadInput, type PushPayload,
} from '../src/modules/delivery/payload.js';

/**
 * The push payload on its own: whatever an admin or a lead writes, every push fits one Web Push
 * record (RFC 8291: 3993 bytes of plaintext), stays valid JSON with its fields intact, and a drill
 * says so first in its title.
 */

const KINDS: DeliveryKind[] = ['alarm', 'reminder', 'instruction', 'message', 'all_clear', 'escalation', 'test'];
const LANGUAGES: Language[] = ['sv', 'en'];
const AT = new Date('2026-11-26T08:15:00.000Z');
const INCIDENT_ID = '0b7e4c1e-5d7a-4c3e-9a51-2f1d8e6b9c10';
const SITE_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

/** `length` characters cycling through emoji (4 bytes, two UTF-16 units), åäö (2 bytes) and a quote (escaped in JSON). */
function multiByte(length: number): string {
  const alphabet = ['😀', 'å', 'ä', 'ö', 'Å', '"', '🚨', '\n', 'e'];
  let text = '';
  for (let i = 0; [...text].length < length; i++) text += alphabet[i % alphabet.length];
  return text;
}

function typeSnapshot(instruction: string): AlarmTypeSnapshot {
  return {
    id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', key: 'inrymning',
    label: { sv: 'Inrymning (PDV)', en: 'Lockdown (active violence)' },
    instruction: { sv: instruction, en: instruction },
    colour: '#6a1b9a', icon: 'lock', sound: 'silent', precedence: 100,
    cap: { category: 'Security', event: 'Lockdown', responseType: 'Shelter', severity: 'Extreme', urgency: 'Immediate' },
    delivery: { pushTtlSeconds: 900, repushAfterSeconds: 60, maxRepushes: 3, contactsAfterSeconds: 120, smsToContacts: false, smsWhenNoPush: false },
  };
}

function incident(options: { drill: boolean; instruction: string; location: string | null; siteName?: string }): IncidentContext {
  return {
    id: INCIDENT_ID, siteId: SITE_ID, siteName: options.siteName ?? 'Vasaskolan', drill: options.drill,
    type: typeSnapshot(options.instruction), location: options.location,
  };
}

function siteInstruction(text: string, drill: boolean): SiteInstruction {
  return {
    siteId: SITE_ID, incidentId: INCIDENT_ID, typeKey: 'inrymning',
    label: { sv: 'Inrymning (PDV)', en: 'Lockdown (active violence)' }, text: { sv: text, en: text },
    colour: '#6a1b9a', icon: 'lock', sound: 'silent', responseType: 'Shelter', drill, since: AT.toISOString(), activeIncidents: 1,
  };
}

/** Everything a push of `kind` could carry, as long as the API lets it be. */
function input(kind: DeliveryKind, context: IncidentContext, text: { instruction: string; message: string; names: string[] }): PayloadInput {
  if (kind === 'test') return { kind, incident: null, at: AT };
  return {
    kind, incident: context, at: AT,
    instruction: siteInstruction(text.instruction, context.drill),
    ended: { how: 'cancelled', reason: text.message },
    message: text.message,
    unreached: text.names,
  };
}

/** The payload's JSON is what the push service decrypts: it must parse back to the same object. */
function expectFitsAndValid(payload: PushPayload): void {
  const json = JSON.stringify(payload);
  expect(Buffer.byteLength(json, 'utf8')).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  expect(JSON.parse(json)).toEqual(payload);
  expect(payload.title.length).toBeGreaterThan(0);
}

describe('push payloads', () => {
  const longText = { instruction: multiByte(1000), message: multiByte(2000), names: Array.from({ length: 300 }, (_, i) => `Åsa Öberg-Ängström ${i} 😀`) };

  it.each(LANGUAGES)('with a 1000-character instruction and a 2000-character message of emoji and åäö, every kind fits in 3993 bytes of JSON and keeps its fields (%s)', (lang) => {
    for (const drill of [false, true]) {
      const context = incident({ drill, instruction: longText.instruction, location: multiByte(200) });
      for (const kind of KINDS) {
        const payload = buildPayload(input(kind, context, longText), lang);
        expectFitsAndValid(payload);
        expect(payload).toMatchObject({ v: 1, kind, lang, at: AT.toISOString() });
        if (kind === 'test') continue;
        expect(payload).toMatchObject({
          incidentId: INCIDENT_ID, drill, site: { id: SITE_ID, name: 'Vasaskolan' },
          alarmType: { key: 'inrymning', colour: '#6a1b9a', icon: 'lock', sound: 'silent' },
        });
        // A lead's 2000-character message (and a cancel reason as long) cannot fit: it is shortened, and says so.
        if (kind === 'message' || kind === 'all_clear') expect(payload.body.endsWith('…')).toBe(true);
      }
    }
  });

  it('any text the API accepts, in any language, still makes a payload that fits and parses', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 2000 });
    fc.assert(fc.property(
      fc.constantFrom(...KINDS), fc.constantFrom(...LANGUAGES), fc.boolean(),
      fc.string({ unit: 'grapheme', maxLength: 1000 }), text, fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: null }),
      fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), { maxLength: 120 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
      (kind, lang, drill, instruction, message, location, names, siteName) => {
        const payload = buildPayload(input(kind, incident({ drill, instruction, location, siteName }), { instruction, message, names }), lang);
        expectFitsAndValid(payload);
        expect(payload.drill).toBe(kind === 'test' ? false : drill);
      },
    ), { numRuns: 300 });
  });

  it('shortened text never ends in half an emoji (a lone surrogate reaches the phone as U+FFFD)', () => {
    for (const lang of LANGUAGES) {
      for (let length = 1990; length <= 2000; length++) {
        const message = multiByte(length);
        const context = incident({ drill: false, instruction: 'x', location: null });
        for (const kind of ['message', 'all_clear'] as const) {
          const json = JSON.stringify(buildPayload(input(kind, context, { instruction: 'x', message, names: [] }), lang));
          // JSON.stringify escapes lone surrogates and only them.
          expect(json).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
        }
      }
    }
  });

  it('a drill is marked first in the title of every push about it, in Swedish and in English', () => {
    const context = incident({ drill: true, instruction: 'Stäng dörren.', location: null });
    for (const kind of KINDS.filter((k) => k !== 'test')) {
      const sv = buildPayload(input(kind, context, { instruction: 'Stäng dörren.', message: 'Stanna inne', names: ['Kim'] }), 'sv');
      const en = buildPayload(input(kind, context, { instruction: 'Close the door.', message: 'Stay inside', names: ['Kim'] }), 'en');
      expect(sv.drill).toBe(true);
      expect(en.drill).toBe(true);
      if (kind === 'instruction') {
        // The title names the change; the instruction itself is marked as a drill's.
        expect(sv.body.startsWith('ÖVNING: ')).toBe(true);
        expect(en.body.startsWith('DRILL: ')).toBe(true);
      } else {
        expect(sv.title.startsWith('ÖVNING – ')).toBe(true);
        expect(en.title.startsWith('DRILL – ')).toBe(true);
      }
    }
    expect(buildPayload(input('alarm', context, { instruction: 'x', message: '', names: [] }), 'sv').title).toBe('ÖVNING – Inrymning (PDV) – Vasaskolan');
    expect(buildPayload(input('alarm', context, { instruction: 'x', message: '', names: [] }), 'en').title)
      .toBe('DRILL – Lockdown (active violence) – Vasaskolan');
    const real = incident({ drill: false, instruction: 'x', location: null });
    for (const lang of LANGUAGES) {
      const title = buildPayload(input('alarm', real, { instruction: 'x', message: '', names: [] }), lang).title;
      expect(title).not.toMatch(/ÖVNING|DRILL/);
    }
  });

  it('an escalation names at most 50 of the unreached and counts the rest ("och N till" / "and N more")', () => {
    const context = incident({ drill: false, instruction: 'x', location: null });
    const names = Array.from({ length: 73 }, (_, i) => `Person ${String(i).padStart(2, '0')}`);
    const sv = buildPayload({ kind: 'escalation', incident: context, unreached: names, at: AT }, 'sv');
    const en = buildPayload({ kind: 'escalation', incident: context, unreached: names, at: AT }, 'en');
    const shown = names.slice(0, 50).join(', ');
    expect(sv.body).toBe(`${shown}, och 23 till`);
    expect(en.body).toBe(`${shown}, and 23 more`);
    expect(sv.title).toBe('73 personer har inte bekräftat larmet – Inrymning (PDV) – Vasaskolan');
    expect(en.title).toBe('73 people have not confirmed the alarm – Lockdown (active violence) – Vasaskolan');
    expect(sv.tag).toBe(`samlarm-escalation-${INCIDENT_ID}`);

    const fifty = buildPayload({ kind: 'escalation', incident: context, unreached: names.slice(0, 50), at: AT }, 'en');
    expect(fifty.body).toBe(shown);
    const one = buildPayload({ kind: 'escalation', incident: context, unreached: ['Kim Krisledare'], at: AT }, 'sv');
    expect(one.title.startsWith('1 person har inte bekräftat larmet')).toBe(true);
    expect(one.body).toBe('Kim Krisledare');
  });

  it('the Topic of an incident is at most 32 URL-safe characters, and an escalation\'s differs from the alarm\'s', () => {
    fc.assert(fc.property(fc.uuid(), (id) => {
      for (const kind of [undefined, ...KINDS]) {
        expect(incidentTopic(id, kind)).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      }
      expect(incidentTopic(id, 'escalation')).not.toBe(incidentTopic(id, 'alarm'));
      expect(incidentTopic(id, 'all_clear')).toBe(incidentTopic(id));
    }), { examples: [['e3b0c442-98fc-4c14-9afb-f4c8996fb924']] });
  });
});
