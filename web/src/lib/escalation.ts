import type { TextKey } from './i18n.ts';
import type { Envelope, EscalationNote } from './types.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reads a `repushed` or `escalated` event; anything else (or a malformed one) is null. */
export function escalationOf(e: Pick<Envelope, 'id' | 'at' | 'type' | 'data'>): EscalationNote | null {
  const data = e.data;
  if (e.type === 'repushed') {
    return { id: e.id, at: e.at, kind: 'repushed', round: Number(data.round) || 1, unreached: Number(data.unreached) || 0 };
  }
  if (e.type !== 'escalated') return null;
  const unreached = (Array.isArray(data.unreached) ? data.unreached : []).filter(isRecord).map((u) => ({ personId: str(u.personId), name: str(u.name) }));
  const contacts = (Array.isArray(data.contacts) ? data.contacts : []).filter(isRecord)
    .map((c) => ({ name: str(c.name), group: str(c.group), sms: c.sms === true }));
  const unreachedCount = Math.max(Number(data.unreachedCount) || 0, unreached.length);
  return { id: e.id, at: e.at, kind: 'escalated', unreached, unreachedCount, contacts };
}

/** Adds notes to a list, once per event id, in timeline (id) order. */
export function mergeNotes(list: EscalationNote[], add: EscalationNote[]): EscalationNote[] {
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const n of add) byId.set(n.id, n);
  return [...byId.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

const NAMES_SHOWN = 8;

/** One line per note, e.g. "Påminnelse skickad till 3 personer (omgång 1)." */
export function describeNote(t: (key: TextKey, vars?: Record<string, string | number>) => string, note: EscalationNote): string {
  if (note.kind === 'repushed') {
    return note.unreached === 1 ? t('repushedOne', { round: note.round }) : t('repushedMany', { n: note.unreached, round: note.round });
  }
  const contacts = note.contacts.map((c) => (c.sms ? `${c.name} (${t('sms')})` : c.name)).join(', ');
  const names = note.unreached.map((u) => u.name);
  const shown = note.unreachedCount > NAMES_SHOWN || note.unreachedCount > names.length
    ? t('moreNames', { names: names.slice(0, NAMES_SHOWN).join(', '), n: note.unreachedCount - Math.min(names.length, NAMES_SHOWN) })
    : names.join(', ');
  const head = note.contacts.length > 0 ? t('escalated', { contacts }) : t('escalatedNoContacts');
  return names.length > 0 ? `${head} ${t('unreachedNames', { names: shown })}` : head;
}
