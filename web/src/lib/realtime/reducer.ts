import { escalationOf, mergeNotes } from '../escalation.ts';
import type {
  ActiveIncidentState, CatchUp, Envelope, EscalationNote, Incident, IncidentMessage, Instruction, Position, ResponseStatus, Sound,
} from '../types.ts';
import type { ReceiptSpread } from './receipts.ts';

/**
 * What the device knows, and the rules of docs/realtime.md for changing it: a pure function from the
 * state and one thing that happened (an event, a catch-up answer, the person's own action) to the next
 * state and the effects to carry out (ring, silence, send a receipt, …). No timers, storage or sockets
 * here: `client.ts` carries the effects out, `transport.ts` talks to the server.
 */

/** What the device knows about one incident it is part of. */
export interface IncidentView {
  incident: Incident;
  messages: IncidentMessage[];
  myStatus: ResponseStatus | null;
  /** The person has seen it (opened it, silenced it or answered). */
  acknowledged: boolean;
  endReason: string | null;
  /** Leads: reminders and escalations so far (`repushed`, `escalated`), in timeline order. */
  escalations: EscalationNote[];
  /** A lead's instruction that came after the person last touched the alarm: shown first and highlighted. */
  freshMessage: string | null;
}

export interface RealtimeState {
  personId: string;
  /** The newest event id the server's answers have covered (docs/realtime.md): moved only by catch-up answers. */
  cursor: string | null;
  /** The timeline the cursor and every event id held here belong to: a new one (a restored database) starts afresh. */
  epoch: string | null;
  /** Event ids after the cursor already applied (de-duplication). */
  seen: ReadonlySet<string>;
  /** Per site: the id of the event whose instruction is shown, so that a late, older event cannot replace it. */
  instructionFrom: Readonly<Record<string, string>>;
  /** Per incident, the newest re-alert applied, and the newest the person has seen (it never rings again). */
  lastRealert: Readonly<Record<string, string>>;
  realertSeen: Readonly<Record<string, string>>;
  /** Incidents the person has seen, newest first, kept across reloads: catching up never rings for them again. */
  acknowledgedIds: readonly string[];
  incidents: Readonly<Record<string, IncidentView>>;
  /** The one current instruction per site (DESIGN invariant 5), null when nothing is active. */
  instructions: Readonly<Record<string, Instruction | null>>;
}

export type Effect =
  /** Start the alarm (sound and vibration unless silent) and show it. */
  | { kind: 'ring'; incident: Incident; sound: Sound }
  | { kind: 'silence'; incidentId: string }
  /** Confirm to the server; after `spread.afterMs` and within `spread.withinMs` at random when it asked for a spread (an alarm to hundreds or more). */
  | { kind: 'receipt'; incidentId: string; receipt: 'delivered' | 'acknowledged'; spread?: ReceiptSpread }
  /** The server no longer lists it as active: find out how it ended. */
  | { kind: 'learnEnd'; incidentId: string }
  /** Something a lead's roll call shows has changed. */
  | { kind: 'rollcallChanged'; incidentId: string }
  | { kind: 'saveCursor'; cursor: string; epoch: string }
  | { kind: 'saveAcknowledged'; ids: readonly string[] }
  /** A lead's instruction arrived: draw attention to it (vibrate only where the site is not silent). */
  | { kind: 'newInstruction'; incidentId: string; silent: boolean };

export type Action =
  | { type: 'event'; event: Envelope }
  | { type: 'catchUp'; body: CatchUp }
  /** The raise answer: the incident at once, before its event arrives. */
  | { type: 'raised'; incident: Incident; instruction: Instruction | null }
  | { type: 'acknowledge'; incidentId: string }
  | { type: 'answered'; incidentId: string; status: ResponseStatus }
  | { type: 'dismiss'; incidentId: string }
  /** How an incident ended, read from the server after a resync. */
  | { type: 'ended'; incident: Incident & { endReason: string | null } }
  | { type: 'escalations'; incidentId: string; notes: EscalationNote[] };

export interface Result { state: RealtimeState; effects: Effect[] }

export const LEAD_TYPES: ReadonlySet<string> = new Set(['joined', 'recipients_computed', 'reply', 'responded', 'delivered', 'acknowledged', 'raised', 'reraised']);
const ACKNOWLEDGED_KEPT = 50;

export function initialState(personId: string, position: Position | null, acknowledgedIds: readonly string[] = []): RealtimeState {
  return { personId, cursor: position?.cursor ?? null, epoch: position?.epoch ?? null, seen: new Set(), instructionFrom: {}, lastRealert: {}, realertSeen: {}, acknowledgedIds, incidents: {}, instructions: {} };
}

/** Event ids are increasing integers in strings (docs/realtime.md); null is before everything. */
export const newer = (a: string, b: string | null): boolean => b === null || BigInt(a) > BigInt(b);

/**
 * Silent when the type is, and also when the site's current instruction is (a loud alarm raised
 * during a lockdown must not ring in a hiding place; the push payload says silent then too).
 */
export function soundOf(state: Pick<RealtimeState, 'instructions'>, incident: Incident): Sound {
  return incident.type.sound === 'silent' || state.instructions[incident.siteId]?.sound === 'silent' ? 'silent' : 'loud';
}

const messageKey = (messageId: string | number): string => `m${messageId}`;

/** Adds a message once (a resync and a catch-up can both bring it), in the order they were sent. */
function withMessage(messages: IncidentMessage[], message: IncidentMessage): IncidentMessage[] {
  if (messages.some((m) => m.key === message.key)) return messages;
  return [...messages, message].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The state while one reduction changes it (a copy: the caller's state is never touched). */
interface Working {
  personId: string;
  cursor: string | null;
  epoch: string | null;
  seen: Set<string>;
  instructionFrom: Record<string, string>;
  lastRealert: Record<string, string>;
  realertSeen: Record<string, string>;
  acknowledgedIds: readonly string[];
  incidents: Record<string, IncidentView>;
  instructions: Record<string, Instruction | null>;
}

/** One reduction in progress: the working state, the effects so far, and a catch-up batch's alerts. */
interface Draft {
  s: Working;
  effects: Effect[];
  /** While a catch-up batch is applied: the incidents to alert for once it is all in, and which of them re-alerted. */
  batch: { pending: Set<string>; realerted: Set<string> } | null;
}

export function reduce(state: RealtimeState, action: Action): Result {
  const d: Draft = {
    s: {
      ...state, seen: new Set(state.seen), instructionFrom: { ...state.instructionFrom }, lastRealert: { ...state.lastRealert },
      realertSeen: { ...state.realertSeen }, incidents: { ...state.incidents }, instructions: { ...state.instructions },
    },
    effects: [],
    batch: null,
  };
  switch (action.type) {
    case 'event':
      apply(d, action.event, true);
      break;
    case 'catchUp':
      catchUp(d, action.body);
      break;
    case 'raised':
      raised(d, action.incident, action.instruction);
      break;
    case 'acknowledge':
      acknowledge(d, action.incidentId);
      break;
    case 'answered':
      d.effects.push({ kind: 'silence', incidentId: action.incidentId });
      realertSeenNow(d, action.incidentId);
      update(d, action.incidentId, { myStatus: action.status, acknowledged: true, freshMessage: null });
      remember(d, action.incidentId);
      break;
    case 'dismiss':
      d.s.incidents = Object.fromEntries(Object.entries(d.s.incidents).filter(([id]) => id !== action.incidentId));
      break;
    case 'ended':
      upsert(d, action.incident, { endReason: action.incident.endReason });
      break;
    case 'escalations': {
      const view = d.s.incidents[action.incidentId];
      if (view && action.notes.length > 0) update(d, action.incidentId, { escalations: mergeNotes(view.escalations, action.notes) });
      break;
    }
  }
  return { state: d.s, effects: d.effects };
}

function catchUp(d: Draft, body: CatchUp): void {
  // A device without an epoch yet (a first start, or a cursor kept from before epochs) takes the answer's.
  if (d.s.epoch === null) d.s.epoch = body.epoch;
  else if (body.epoch !== d.s.epoch) otherEpoch(d, body.epoch);
  if (body.kind === 'events') {
    // Alert only for what is still going on after the whole batch: a device that missed a raise and
    // its all clear must not ring for an alarm that is already over.
    d.batch = { pending: new Set(), realerted: new Set() };
    for (const e of body.events) apply(d, e, false);
    const { pending, realerted } = d.batch;
    d.batch = null;
    for (const id of pending) {
      const view = d.s.incidents[id];
      if (view && !view.acknowledged && (view.myStatus === null || realerted.has(id))) alert(d, view.incident);
    }
  } else {
    resync(d, body.incidents);
  }
  setCursor(d, body.cursor);
}

/**
 * The answer is from another timeline than the cursor (a database restored from a backup reuses event
 * ids; the server then answers with a resync): every id held here means nothing in it, so the cursor
 * moves to the answer's, even backwards, and live events are no longer skipped by ids from before.
 */
function otherEpoch(d: Draft, epoch: string): void {
  d.s.epoch = epoch;
  d.s.cursor = null;
  d.s.seen = new Set();
  d.s.instructionFrom = {};
  d.s.lastRealert = {};
  d.s.realertSeen = {};
}

function setCursor(d: Draft, cursor: string): void {
  if (!newer(cursor, d.s.cursor) || d.s.epoch === null) return;
  d.s.cursor = cursor;
  d.effects.push({ kind: 'saveCursor', cursor, epoch: d.s.epoch });
  // Events at or before the cursor never apply again (live ones are skipped, catch-ups start after it).
  for (const id of d.s.seen) if (!newer(id, cursor)) d.s.seen.delete(id);
}

/** A resync replaces what the device shows with the server's current state. */
function resync(d: Draft, list: ActiveIncidentState[]): void {
  const before = d.s.incidents;
  const incidents: Record<string, IncidentView> = {};
  const instructions: Record<string, Instruction | null> = {};
  // The server's current state replaces whatever live events said; events after its cursor apply again.
  d.s.instructionFrom = {};
  d.s.seen = new Set();
  for (const siteId of Object.keys(d.s.instructions)) instructions[siteId] = null;
  const fresh: Incident[] = [];
  for (const item of list) {
    const old = before[item.incident.id];
    instructions[item.incident.siteId] = item.instruction;
    // An end this device already knows of (a live event newer than the state) stays: it never reopens.
    if (old && old.incident.state !== 'active') {
      incidents[item.incident.id] = old;
      continue;
    }
    const messages = item.messages.map((m) => ({ key: messageKey(m.id), body: m.body, at: m.at, author: m.authorName }));
    // Instructions the device had not shown yet (sent while it was away) are new to the person.
    const unseen = old ? messages.filter((m) => !old.messages.some((o) => o.key === m.key)) : [];
    const newest = unseen[unseen.length - 1];
    const view: IncidentView = {
      incident: item.incident,
      messages,
      myStatus: item.myStatus,
      acknowledged: (old?.acknowledged ?? d.s.acknowledgedIds.includes(item.incident.id)) || item.myStatus !== null,
      endReason: null,
      escalations: old?.escalations ?? [],
      freshMessage: newest ? newest.key : old?.freshMessage ?? null,
    };
    incidents[item.incident.id] = view;
    if (newest) d.effects.push({ kind: 'newInstruction', incidentId: item.incident.id, silent: item.instruction?.sound === 'silent' });
    if (!old && !view.acknowledged) fresh.push(item.incident);
  }
  // Incidents this device showed as active that the server no longer lists have ended: silence them
  // at once, keep showing them, and learn how they ended.
  const ended = new Set(Object.values(before).filter((v) => v.incident.state === 'active' && !incidents[v.incident.id]).map((v) => v.incident.id));
  for (const v of Object.values(before)) if (!incidents[v.incident.id]) incidents[v.incident.id] = v;
  d.s.incidents = incidents;
  d.s.instructions = instructions;
  for (const id of ended) {
    d.effects.push({ kind: 'silence', incidentId: id });
    d.effects.push({ kind: 'learnEnd', incidentId: id });
  }
  for (const view of Object.values(incidents)) {
    const id = view.incident.id;
    if (ended.has(id)) continue;
    // Nothing rings while a silent instruction (lockdown) is in force at the incident's site.
    if (view.incident.state !== 'active' || instructions[view.incident.siteId]?.sound === 'silent') d.effects.push({ kind: 'silence', incidentId: id });
    if (view.incident.state === 'active') d.effects.push({ kind: 'receipt', incidentId: id, receipt: 'delivered' });
  }
  for (const incident of fresh) alert(d, incident);
}

/** Applies one event; `live` when it came on its own rather than in a catch-up answer. */
function apply(d: Draft, e: Envelope, live: boolean): void {
  // A live event at or before the cursor is already in what the last catch-up answer gave us.
  if (live && d.s.cursor !== null && !newer(e.id, d.s.cursor)) return;
  if (d.s.seen.has(e.id)) return;
  d.s.seen.add(e.id);
  const data = e.data;
  const from = d.s.instructionFrom[e.siteId];
  // Live events from different nodes can arrive out of order: the newest event's instruction holds.
  if ('instruction' in data && (from === undefined || newer(e.id, from))) {
    const instruction = data.instruction as Instruction | null;
    d.s.instructionFrom[e.siteId] = e.id;
    d.s.instructions[e.siteId] = instruction;
    // A silent instruction (lockdown) now in force silences whatever rings for this site.
    if (instruction?.sound === 'silent') {
      for (const v of Object.values(d.s.incidents)) if (v.incident.siteId === e.siteId) d.effects.push({ kind: 'silence', incidentId: v.incident.id });
    }
  }
  const incident = data.incident as Incident | undefined;
  if (LEAD_TYPES.has(e.type)) d.effects.push({ kind: 'rollcallChanged', incidentId: e.incidentId });
  switch (e.type) {
    case 'raised':
    case 'reraised':
      if (incident) raisedEvent(d, e, incident);
      return;
    case 'message': {
      const view = d.s.incidents[e.incidentId];
      // Ahead of its incident (another node's raise still in flight): let the catch-up apply it again.
      if (!view) {
        d.s.seen.delete(e.id);
        return;
      }
      const key = messageKey(String(data.messageId ?? `e${e.id}`));
      if (view.messages.some((m) => m.key === key)) return;
      const author = typeof data.authorName === 'string' ? data.authorName : null;
      const messages = withMessage(view.messages, { key, body: String(data.body ?? ''), at: e.at, author });
      // A lead's own instruction is not news to them; nothing is news once the alarm has ended.
      const quiet = view.incident.state !== 'active' || data.authorId === d.s.personId;
      update(d, e.incidentId, { messages, freshMessage: quiet ? view.freshMessage : key });
      if (!quiet) d.effects.push({ kind: 'newInstruction', incidentId: e.incidentId, silent: soundOf(d.s, view.incident) === 'silent' });
      return;
    }
    case 'repushed':
    case 'escalated': {
      const note = escalationOf(e);
      const view = d.s.incidents[e.incidentId];
      if (view && note) update(d, e.incidentId, { escalations: mergeNotes(view.escalations, [note]) });
      else d.s.seen.delete(e.id);
      return;
    }
    case 'responded':
      if (data.personId === d.s.personId) update(d, e.incidentId, { myStatus: data.status as ResponseStatus });
      return;
    case 'resolved':
    case 'cancelled':
      d.effects.push({ kind: 'silence', incidentId: e.incidentId });
      // Who ended it and when: from the event (a server without them in the summary: the event's time).
      if (incident) upsert(d, { ...incident, endedAt: incident.endedAt ?? e.at }, { endReason: typeof data.reason === 'string' ? data.reason : null });
  }
}

function raisedEvent(d: Draft, e: Envelope, incident: Incident): void {
  // The presser's own alarm: shown, but no alarm sound in their hand.
  const own = e.type === 'raised' && incident.raisedBy?.id === d.s.personId;
  // A re-alert rings again, unless the person has already seen it (a resync applies events again).
  const seenRealert = d.s.realertSeen[incident.id];
  const freshRealert = e.type === 'reraised' && (seenRealert === undefined || newer(e.id, seenRealert));
  if (e.type === 'reraised' && newer(e.id, d.s.lastRealert[incident.id] ?? null)) d.s.lastRealert[incident.id] = e.id;
  upsert(d, incident, own ? { acknowledged: true } : freshRealert ? { acknowledged: false } : {});
  // What the device holds, not the event: an end seen first (events can arrive out of order) stays.
  const view = d.s.incidents[incident.id];
  if (view?.incident.state !== 'active') return;
  d.effects.push({
    kind: 'receipt', incidentId: incident.id, receipt: 'delivered',
    ...(e.receiptWithinMs || e.receiptAfterMs ? { spread: { afterMs: e.receiptAfterMs, withinMs: e.receiptWithinMs } } : {}),
  });
  if (own) remember(d, incident.id);
  if (!freshRealert && view.acknowledged) return;
  if (d.batch) {
    d.batch.pending.add(incident.id);
    if (freshRealert) d.batch.realerted.add(incident.id);
  } else alert(d, incident);
}

function raised(d: Draft, incident: Incident, instruction: Instruction | null): void {
  upsert(d, incident, { acknowledged: true });
  // An event over the open socket may already have brought a newer instruction (a lockdown confirmed
  // meanwhile): the answer never replaces it.
  const shown = d.s.instructions[incident.siteId];
  if (shown && instruction && Date.parse(shown.since) > Date.parse(instruction.since)) return;
  d.s.instructions[incident.siteId] = instruction;
}

/** The person has seen the alarm: stop the sound and confirm it. */
function acknowledge(d: Draft, incidentId: string): void {
  d.effects.push({ kind: 'silence', incidentId });
  realertSeenNow(d, incidentId);
  const view = d.s.incidents[incidentId];
  if (!view) return;
  if (view.freshMessage !== null) update(d, incidentId, { freshMessage: null });
  if (view.acknowledged) return;
  update(d, incidentId, { acknowledged: true });
  remember(d, incidentId);
  d.effects.push({ kind: 'receipt', incidentId, receipt: 'acknowledged' });
}

function alert(d: Draft, incident: Incident): void {
  if (incident.state !== 'active') return;
  d.effects.push({ kind: 'ring', incident, sound: soundOf(d.s, incident) });
}

function realertSeenNow(d: Draft, incidentId: string): void {
  const last = d.s.lastRealert[incidentId];
  if (last !== undefined) d.s.realertSeen[incidentId] = last;
}

/** Acknowledged incidents survive a reload, so that catching up does not ring for them again. */
function remember(d: Draft, incidentId: string): void {
  d.s.acknowledgedIds = [incidentId, ...d.s.acknowledgedIds.filter((id) => id !== incidentId)].slice(0, ACKNOWLEDGED_KEPT);
  d.effects.push({ kind: 'saveAcknowledged', ids: d.s.acknowledgedIds });
}

function upsert(d: Draft, incident: Incident, patch: Partial<IncidentView>): void {
  const old = d.s.incidents[incident.id];
  // An incident never reopens: an older event's "active" never replaces a resolved or cancelled one.
  const reopening = old !== undefined && old.incident.state !== 'active' && incident.state === 'active';
  d.s.incidents[incident.id] = {
    incident: reopening ? old.incident : { ...old?.incident, ...incident },
    messages: old?.messages ?? [],
    myStatus: old?.myStatus ?? null,
    acknowledged: old?.acknowledged ?? d.s.acknowledgedIds.includes(incident.id),
    endReason: old?.endReason ?? null,
    escalations: old?.escalations ?? [],
    freshMessage: old?.freshMessage ?? null,
    ...patch,
  };
}

function update(d: Draft, incidentId: string, patch: Partial<IncidentView>): void {
  const old = d.s.incidents[incidentId];
  if (old) d.s.incidents[incidentId] = { ...old, ...patch };
}
