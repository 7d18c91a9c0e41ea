import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmTypeSnapshot } from '../../src/modules/alarm-types/alarm-types.js';
import type { SiteInstruction } from '../../src/modules/alarms/instruction.js';
import { alarmSmsText, smsWhenNoPush } from '../../src/modules/delivery/alarm-sms.js';
import { smsProgress } from '../../src/modules/delivery/decisions.js';
import type { IncidentContext } from '../../src/modules/delivery/payload.js';

/** The rules of the alarm's SMS to those without push (ADR 025), on their own. */

const AT = new Date('2026-12-02T10:00:00.000Z');
const ID = '0b7e4c1e-5d7a-4c3e-9a51-2f1d8e6b9c10';

function type(sound: 'loud' | 'silent', instruction = 'Utrym byggnaden.'): AlarmTypeSnapshot {
  return {
    id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', key: sound === 'loud' ? 'brand' : 'inrymning',
    label: sound === 'loud' ? { sv: 'Brand', en: 'Fire' } : { sv: 'Inrymning (PDV)', en: 'Lockdown (active violence)' },
    instruction: { sv: instruction, en: instruction }, colour: '#c62828', icon: 'fire', sound, precedence: 50,
    cap: { category: 'Fire', event: 'Brand', responseType: 'Evacuate', severity: 'Severe', urgency: 'Immediate' },
    delivery: { pushTtlSeconds: 600, repushAfterSeconds: 30, maxRepushes: 3, contactsAfterSeconds: 90, smsToContacts: false, smsWhenNoPush: true },
  };
}
const incident = (sound: 'loud' | 'silent', drill = false, instruction?: string): IncidentContext =>
  ({ id: ID, siteId: 'a', siteName: 'Vasaskolan', drill, type: type(sound, instruction), location: 'Matsalen' });
const inForce = (sound: 'loud' | 'silent', text = 'Utrym byggnaden.'): SiteInstruction => ({
  siteId: 'a', incidentId: ID, typeKey: 'x', label: { sv: 'x', en: 'x' }, text: { sv: text, en: text }, colour: '#000000', icon: 'x',
  sound, responseType: 'Evacuate', drill: false, since: AT.toISOString(), activeIncidents: 1,
});

describe('the alarm by SMS to those without push', () => {
  it('goes when the type says so, but not for a loud alarm while something silent is in force at the site', () => {
    expect(smsWhenNoPush({ smsWhenNoPush: false }, type('loud'), inForce('loud'))).toBe(false);
    expect(smsWhenNoPush({ smsWhenNoPush: true }, type('loud'), inForce('loud'))).toBe(true);
    expect(smsWhenNoPush({ smsWhenNoPush: true }, type('loud'), null)).toBe(true);
    // A fire during a lockdown: the lockdown's silence holds, as for the push.
    expect(smsWhenNoPush({ smsWhenNoPush: true }, type('loud'), inForce('silent'))).toBe(false);
    // A silent type whose admin chose SMS: it goes, saying it is silent.
    expect(smsWhenNoPush({ smsWhenNoPush: true }, type('silent'), inForce('silent'))).toBe(true);
  });

  it('says the type and site first (a drill before them), what to do, where, and links to the alarm', () => {
    expect(alarmSmsText(incident('loud'), inForce('loud'), 'sv', 'https://samlarm.example/', AT))
      .toBe(`Brand – Vasaskolan\nUtrym byggnaden.\nPlats: Matsalen\nÖppna Samlarm: https://samlarm.example/alarm/${ID}`);
    expect(alarmSmsText(incident('loud', true), inForce('loud'), 'en', null, AT))
      .toBe('DRILL – Fire – Vasaskolan\nUtrym byggnaden.\nLocation: Matsalen\nOpen Samlarm for more.');
    expect(alarmSmsText(incident('silent'), inForce('silent'), 'sv', null, AT)).toMatch(/^Inrymning \(PDV\) – Vasaskolan\nTyst larm: stäng av ljudet på telefonen\.\n/);
  });

  it('fits 640 characters whatever the instruction, keeping the headline and the link', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 2000, unit: 'grapheme' }), fc.boolean(), fc.constantFrom('sv', 'en') as fc.Arbitrary<'sv' | 'en'>,
      (text, drill, lang) => {
        const sms = alarmSmsText(incident('silent', drill, text), inForce('silent', text), lang, 'https://samlarm.example', AT);
        expect(Array.from(sms).length).toBeLessThanOrEqual(640);
        const headline = `${lang === 'sv' ? 'Inrymning (PDV)' : 'Lockdown (active violence)'} – Vasaskolan`;
        expect(sms.startsWith(drill ? `${lang === 'sv' ? 'ÖVNING' : 'DRILL'} – ${headline}` : headline)).toBe(true);
        expect(sms.endsWith(`/alarm/${ID}`)).toBe(true);
      }), { numRuns: 200 });
  });

  it('shows the roll call delivered over sent over queued over failed, and nothing when none was queued', () => {
    const none = { smsDeliveredAt: null, smsSentAt: null, smsPending: null, smsFailedAt: null };
    expect(smsProgress(none)).toBeNull();
    expect(smsProgress({ ...none, smsPending: false })).toBeNull();
    expect(smsProgress({ ...none, smsFailedAt: AT })).toEqual({ state: 'failed', at: AT });
    expect(smsProgress({ ...none, smsFailedAt: AT, smsPending: true })).toEqual({ state: 'queued', at: null });
    expect(smsProgress({ ...none, smsSentAt: AT, smsPending: true })).toEqual({ state: 'sent', at: AT });
    expect(smsProgress({ ...none, smsSentAt: AT, smsDeliveredAt: AT })).toEqual({ state: 'delivered', at: AT });
  });
});
