import type { IncidentBrief } from '../alarms/incidents.js';
import type { SiteInstruction } from '../alarms/instruction.js';

export type Language = 'sv' | 'en';
export type DeliveryKind = 'alarm' | 'reminder' | 'instruction' | 'message' | 'all_clear' | 'escalation' | 'test' | 'site_instruction';

/**
 * What a push carries: enough for the notification (title, body, drill marker, colour, sound) and
 * for opening the right incident; the app then fetches the full state over the API. Title and body
 * are already in the recipient's language: a service worker cannot ask.
 */
export interface PushPayload {
  v: 1;
  kind: DeliveryKind;
  incidentId: string | null;
  drill: boolean;
  title: string;
  body: string;
  /** Notifications of one incident share a tag, so a newer one replaces the older. */
  tag: string;
  lang: Language;
  alarmType: { key: string; colour: string; icon: string; sound: string } | null;
  site: { id: string; name: string } | null;
  at: string;
}

/** RFC 8291: 4096 bytes of record minus header, padding delimiter and tag leave 3993 bytes of plaintext. */
export const MAX_PAYLOAD_BYTES = 3993;
/** Room the worker needs to add `,"deliveryId":"<bigint>"` when it sends. */
const DELIVERY_ID_RESERVE = 48;

/** The incident a push is about, as the payload needs it. */
export type IncidentContext = Pick<IncidentBrief, 'id' | 'siteId' | 'siteName' | 'drill' | 'type' | 'location'> & Partial<Pick<IncidentBrief, 'linkedFrom'>>;

/** Push services accept a Topic of at most 32 URL-safe characters: the incident id without dashes. */
// An escalation's starts with 'x', which no hexadecimal id does: it never replaces the alarm itself.
export const incidentTopic = (incidentId: string, kind?: DeliveryKind): string =>
  kind === 'escalation' ? `x${incidentId.replaceAll('-', '').slice(1)}` : incidentId.replaceAll('-', '');

const TEXT = {
  sv: {
    drill: 'ÖVNING',
    reminder: 'Påminnelse',
    instruction: 'Ny instruktion',
    message: 'Meddelande',
    resolved: 'Faran över',
    cancelled: 'Larmet återkallat',
    backToNormal: 'Återgå till normal verksamhet.',
    stillActive: 'Gäller fortfarande',
    place: 'Plats',
    unreached: (n: number) => `${n} ${n === 1 ? 'person har' : 'personer har'} inte bekräftat larmet`,
    more: (n: number) => `och ${n} till`,
    testTitle: 'Testlarm från Samlarm',
    testBody: 'Den här enheten kan ta emot larm.',
    from: (site: string, organisation: string) => `Larm från ${site}, ${organisation}`,
    atYourSite: 'Instruktion på din arbetsplats',
    nothingActive: 'Inget larm gäller längre här.',
    heldAsk: (type: string, organisation: string) =>
      `${type} från ${organisation} väntar på ditt beslut. Öppna larmet: larma ut det här, eller avvisa det.`,
  },
  en: {
    drill: 'DRILL',
    reminder: 'Reminder',
    instruction: 'New instruction',
    message: 'Message',
    resolved: 'All clear',
    cancelled: 'Alarm cancelled',
    backToNormal: 'Return to normal activities.',
    stillActive: 'Still in force',
    place: 'Location',
    unreached: (n: number) => `${n} ${n === 1 ? 'person has' : 'people have'} not confirmed the alarm`,
    more: (n: number) => `and ${n} more`,
    testTitle: 'Test alarm from Samlarm',
    testBody: 'This device can receive alarms.',
    from: (site: string, organisation: string) => `Alarm from ${site}, ${organisation}`,
    atYourSite: 'Instruction at your workplace',
    nothingActive: 'No alarm is in force here any more.',
    heldAsk: (type: string, organisation: string) =>
      `${type} from ${organisation} is waiting for your decision. Open the alarm: raise it here, or dismiss it.`,
  },
} as const;

/**
 * Whether the push is about a drill: an instruction push says what is in force at the site now
 * (a real alarm may have overridden a drill, or the other way round); every other push is about its incident.
 */
function isDrill(input: PayloadInput): boolean {
  if (input.kind === 'instruction' || input.kind === 'site_instruction') return input.instruction?.drill ?? false;
  return input.incident?.drill ?? false;
}

/**
 * The sound profile: silent when the alarm is silent or when what is in force at the site is (a phone
 * that rings during a lockdown can cost a life, whichever incident the push is about).
 */
function soundOf(input: PayloadInput, type: IncidentContext['type']): string {
  // Instruction at your site: loud only when what is in force is loud by type; back to normal is silent (ADR 027).
  if (input.kind === 'site_instruction') return input.instruction?.sound === 'loud' ? 'loud' : 'silent';
  return type.sound === 'silent' || input.instruction?.sound === 'silent' ? 'silent' : type.sound;
}

function base(input: PayloadInput, lang: Language): Omit<PushPayload, 'title' | 'body'> {
  const { kind, incident, at } = input;
  // An instruction push shows the instruction in force (its colour and icon), not the incident it reached people through.
  const shown = (kind === 'instruction' || kind === 'site_instruction') && input.instruction
    ? { key: input.instruction.typeKey, colour: input.instruction.colour, icon: input.instruction.icon }
    : incident ? { key: incident.type.key, colour: incident.type.colour, icon: incident.type.icon } : null;
  return {
    v: 1,
    kind,
    incidentId: incident?.id ?? null,
    drill: isDrill(input),
    // Escalation goes to leads who may also have the alarm itself: it must not replace that notification.
    tag: incident ? `${kind === 'escalation' ? 'samlarm-escalation-' : 'samlarm-incident-'}${incident.id}` : 'samlarm-test',
    lang,
    alarmType: incident && shown ? { ...shown, sound: soundOf(input, incident.type) } : null,
    site: incident ? { id: incident.siteId, name: incident.siteName } : null,
    at: at.toISOString(),
  };
}

/** "ÖVNING – Inrymning (PDV) – Vasaskolan": a drill is marked first, where no one can miss it. */
function headline(lang: Language, incident: IncidentContext, prefix?: string): string {
  const parts = [incident.type.label[lang], incident.siteName];
  if (prefix) parts.unshift(prefix);
  if (incident.drill) parts.unshift(TEXT[lang].drill);
  return parts.join(' – ');
}

const instructionText = (lang: Language, instruction: SiteInstruction | null | undefined) =>
  instruction ? `${instruction.drill ? `${TEXT[lang].drill}: ` : ''}${instruction.text[lang]}` : TEXT[lang].backToNormal;

export interface PayloadInput {
  kind: DeliveryKind;
  incident: IncidentContext | null;
  /** The site's instruction after the change (alarm, instruction, all clear). */
  instruction?: SiteInstruction | null;
  /** all_clear: resolved or cancelled, and why. */
  ended?: { how: 'resolved' | 'cancelled'; reason: string | null };
  /** message: the lead's words. */
  message?: string;
  /** escalation: who has not confirmed. */
  unreached?: string[];
  at: Date;
}

/**
 * What a receiving lead's phone says of a linked alarm held at their site (docs/linking.md): sent as a message on
 * the incident whose instruction it contradicts, so it is as silent as that incident is.
 */
export function heldAskText(lang: Language, typeLabel: { sv: string; en: string }, organisationName: string, drill: boolean): string {
  return `${drill ? `${TEXT[lang].drill}: ` : ''}${TEXT[lang].heldAsk(typeLabel[lang], organisationName)}`;
}

export function buildPayload(input: PayloadInput, lang: Language): PushPayload {
  const t = TEXT[lang];
  const { incident } = input;
  const payload = (title: string, body: string): PushPayload => fit({ ...base(input, lang), title, body });
  if (!incident) return payload(t.testTitle, t.testBody);
  const location = incident.location ? `\n${t.place}: ${incident.location}` : '';
  // A linked alarm says first where it came from (docs/linking.md): it is not the site's own.
  const from = incident.linkedFrom ? `${t.from(incident.linkedFrom.siteName, incident.linkedFrom.organisationName)}\n` : '';
  switch (input.kind) {
    case 'alarm':
      return payload(headline(lang, incident), `${from}${instructionText(lang, input.instruction)}${location}`);
    case 'reminder':
      return payload(headline(lang, incident, t.reminder), `${from}${instructionText(lang, input.instruction)}${location}`);
    case 'instruction':
      return payload(
        `${input.instruction?.drill ? `${t.drill} – ` : ''}${t.instruction} – ${incident.siteName}`, instructionText(lang, input.instruction),
      );
    case 'message':
      return payload(headline(lang, incident, t.message), input.message ?? '');
    case 'all_clear': {
      const how = input.ended?.how === 'cancelled' ? t.cancelled : t.resolved;
      const reason = input.ended?.reason ? `${input.ended.reason}\n` : '';
      const still = input.instruction ? `${t.stillActive}: ${instructionText(lang, input.instruction)}` : t.backToNormal;
      return payload(headline(lang, incident, how), `${reason}${still}`);
    }
    case 'escalation': {
      const names = input.unreached ?? [];
      const shown = names.slice(0, 50);
      const rest = names.length > shown.length ? `, ${t.more(names.length - shown.length)}` : '';
      return payload(headline(lang, incident, t.unreached(names.length)), `${shown.join(', ')}${rest}`);
    }
    case 'test':
      return payload(t.testTitle, t.testBody);
    case 'site_instruction': {
      // Not the alarm: no incident to open or confirm (the person is not its recipient), one notification per site.
      const title = `${input.instruction?.drill ? `${t.drill} – ` : ''}${t.atYourSite} – ${incident.siteName}`;
      const words = input.instruction ? `${input.instruction.label[lang]}: ${instructionText(lang, input.instruction)}` : `${t.nothingActive} ${t.backToNormal}`;
      const body = input.message ? `${words}\n${input.message}` : words;
      return fit({ ...base(input, lang), incidentId: null, tag: `samlarm-site-${incident.siteId}`, title, body });
    }
  }
}

const bytes = (payload: PushPayload) => Buffer.byteLength(JSON.stringify(payload));

/** Drops `drop` code points (and one for the mark) from the end of a text; never splits a surrogate pair (half an emoji). */
export const cut = (text: string, drop: number): string => {
  const points = Array.from(text);
  return `${points.slice(0, Math.max(0, points.length - drop - 1)).join('')}…`;
};

/** Shortens the body (then the title) until the payload, with the delivery id the worker adds, fits a push message. */
function fit(payload: PushPayload): PushPayload {
  const limit = MAX_PAYLOAD_BYTES - DELIVERY_ID_RESERVE;
  let result = payload;
  while (bytes(result) > limit) {
    // A code point takes at least one byte: dropping as many as the excess in bytes cuts enough or too little, never too much.
    const over = bytes(result) - limit;
    if (Array.from(result.body).length > 1) result = { ...result, body: cut(result.body, over) };
    else result = { ...result, title: cut(result.title, over) };
  }
  return result;
}
